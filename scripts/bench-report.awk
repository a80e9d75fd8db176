# Turns build/bench/results.csv (workload,allocator,metric,value) into the markdown tables of
# build/bench/results.md. Called by scripts/bench.sh with -F, and the variables machine,
# commit, repro, date and allocs (space-separated allocator names, in table order).

NR > 1 {
	v[$1, $2, $3] = $4
	if ($1 == "fuzz" && $3 == "exec_per_sec")
		fuzz_t[++nfuzz] = $2
}

function has(w, a, m) {
	return ((w, a, m) in v) && v[w, a, m] != "n/a" && v[w, a, m] != ""
}

function num(w, a, m) {
	return v[w, a, m] + 0
}

function ns(x) {
	if (x < 100)
		return sprintf("%.1f", x)
	return sprintf("%.0f", x)
}

function ratio(x) {
	if (x < 10)
		return sprintf("%.2f×", x)
	return sprintf("%.0f×", x)
}

function mib(x) {
	return sprintf("%.1f", x / 1048576)
}

function cell(w, a, m, kind) {
	if (!has(w, a, m))
		return "n/a"
	if (kind == "ns")
		return ns(num(w, a, m))
	if (kind == "share")
		return sprintf("%.3f", num(w, a, m))
	return sprintf("%.1f", num(w, a, m))
}

# ns per call with its ratio to glibc's in the same run.
function speed(w, a) {
	if (!has(w, a, "ns_per_call"))
		return "n/a"
	if (a == "glibc" || !has(w, "glibc", "ns_per_call"))
		return ns(num(w, a, "ns_per_call"))
	return ns(num(w, a, "ns_per_call")) " (" ratio(num(w, a, "ns_per_call") / num(w, "glibc", "ns_per_call")) ")"
}

function goal(what, target, measured, ok) {
	printf "| %s | %s | %s | %s |\n", what, target, measured, ok == "" ? "not measured" : (ok ? "met" : "**MISSED**")
	ngoals++
	if (ok != "" && !ok)
		nmissed++
	if (ok == "")
		nunmeasured++
}

END {
	n = split(allocs, A, " ")
	split("rand-small rand-large lifo fifo realloc memalign", W, " ")
	nw = 6

	print "# slotheap benchmarks"
	print ""
	printf "Machine: %s. Commit %s, %s. Command: `%s`.\n", machine, commit, date, repro
	print ""
	print "All allocators run side by side in one process on the same deterministic workloads"
	print "(seed " v["setup", "all", "seed"] ", " v["setup", "all", "reps"] " repetitions, median reported), so a noisy machine slows them alike."
	print "slotheap and slotheap-linear (the SH_LINEAR build) allocate from the same host pool."
	print ""

	print "## Summary"
	print ""
	print "Goals of the allocator (issue 14), measured by this run:"
	print ""
	print "| goal | target | measured | verdict |"
	print "|---|---|---|---|"
	w = "rand-small"
	if (has(w, "slotheap", "instr_per_call")) {
		x = num(w, "slotheap", "instr_per_call")
		goal("instructions per call, random 8-512 B, 10,000 live (callgrind)", "≤ 150", sprintf("%.1f", x), x <= 150)
	} else
		goal("instructions per call, random 8-512 B, 10,000 live (callgrind)", "≤ 150", "n/a", "")
	Gtarget["rand-small"] = 2.5
	Gtarget["rand-large"] = 0.2
	for (i = 1; i <= 2; i++) {
		w = W[i]
		t = sprintf("≤ %.1f×", Gtarget[w])
		if (has(w, "slotheap", "ns_per_call") && has(w, "glibc", "ns_per_call")) {
			r = num(w, "slotheap", "ns_per_call") / num(w, "glibc", "ns_per_call")
			goal("ns per call against glibc, " w, t, ns(num(w, "slotheap", "ns_per_call")) " ns = " ratio(r), r <= Gtarget[w])
		} else
			goal("ns per call against glibc, " w, t, "n/a", "")
	}
	w = "rand-small"
	if (has(w, "slotheap", "ns_per_call") && has(w, "slotheap-linear", "ns_per_call")) {
		r = num(w, "slotheap-linear", "ns_per_call") / num(w, "slotheap", "ns_per_call")
		x = has(w, "slotheap-linear", "instr_per_call") && has(w, "slotheap", "instr_per_call") ? sprintf(" (%s in instructions)", ratio(num(w, "slotheap-linear", "instr_per_call") / num(w, "slotheap", "instr_per_call"))) : ""
		goal("speedup over the SH_LINEAR build, " w " (10,000 live)", "≥ 100×", ratio(r) x, r >= 100)
	} else
		goal("speedup over the SH_LINEAR build, " w, "≥ 100×", "n/a", "")
	split("lat-rand lat-mixed", L, " ")
	Ldesc["lat-rand"] = "malloc/free"
	Ldesc["lat-mixed"] = "malloc/free/realloc/memalign"
	for (i = 1; i <= 2; i++) {
		w = L[i]
		if (has(w, "slotheap", "max_ns") && has(w, "slotheap", "p999_ns")) {
			x = num(w, "slotheap", "max_ns")
			y = num(w, "slotheap", "p999_ns")
			goal("slowest call / p99.9 at 100,000 live, " Ldesc[w] " (preemption filtered; raw max)", "≤ 1,000 / ≤ 300 ns",
			    ns(x) " / " ns(y) " ns; " ns(num(w, "slotheap", "max_ns_raw")) " ns", x <= 1000 && y <= 300)
		} else
			goal("slowest call / p99.9 at 100,000 live, " Ldesc[w], "≤ 1,000 / ≤ 300 ns", "n/a", "")
	}
	if (has("memalign", "slotheap", "instr_per_call") && has("rand-small", "slotheap", "instr_per_call")) {
		x = num("memalign", "slotheap", "instr_per_call")
		r = x / num("rand-small", "slotheap", "instr_per_call")
		goal("memalign instructions per call (align 16-4096)", "≤ 3× malloc's", sprintf("%.0f = %s rand-small's", x, ratio(r)), r <= 3)
	} else
		goal("memalign instructions per call", "≤ 3× malloc's", "n/a", "")
	if (has("meta", "slotheap", "bytes_per_live_block")) {
		x = num("meta", "slotheap", "bytes_per_live_block")
		goal("metadata bytes per live block, rand-small's provisioning (slots, buckets, index)", "≤ 32",
		    sprintf("%.1f (index %.1f)", x, num("meta", "slotheap", "index_bytes_per_live_block")), x <= 32)
	} else
		goal("metadata bytes per live block", "≤ 32", "n/a", "")
	split("churn-256K churn-64M", C, " ")
	Cdesc["churn-256K"] = "256 KiB pool, 8-512 B"
	Cdesc["churn-64M"] = "64 MiB pool, 8-64 KiB"
	Ctarget["churn-256K"] = 0.88
	Ctarget["churn-64M"] = 0.995
	for (i = 1; i <= 2; i++) {
		w = C[i]
		if (has(w, "slotheap", "live_share") && has(w, "policy-ceiling", "live_share")) {
			x = num(w, "slotheap", "live_share")
			c = num(w, "policy-ceiling", "live_share")
			goal("churn, " Cdesc[w] ": share of the policy ceiling", sprintf("≥ %.3f", Ctarget[w]),
			    sprintf("%.3f (%.3f / %.3f, %d slots)", x / c, x, c, num(w, "slotheap", "nslots")), x / c >= Ctarget[w])
		} else
			goal("churn, " Cdesc[w] ": share of the policy ceiling", sprintf("≥ %.3f", Ctarget[w]), "n/a", "")
	}
	print ""
	printf "%d of %d goals met (%d not measured).\n", ngoals - nmissed - nunmeasured, ngoals, nunmeasured
	print ""

	print "## Overview"
	print ""
	print "| allocator | rand-small ns/call (× glibc) | rand-large ns/call (× glibc) | instr/call small | instr/call large | p99.9 / max ns at 100k live | metadata B/live block | peak RSS / requested, small |"
	print "|---|---|---|---|---|---|---|---|"
	for (i = 1; i <= n; i++) {
		a = A[i]
		lat = "n/a"
		if (has("lat-rand", a, "max_ns"))
			lat = ns(num("lat-rand", a, "p999_ns")) " / " ns(num("lat-rand", a, "max_ns"))
		meta = "n/a"
		if (has("meta", a, "bytes_per_live_block"))
			meta = sprintf("%.1f", num("meta", a, "bytes_per_live_block"))
		else if (a == "glibc")
			meta = "8 (chunk header, by design; not measured)"
		peak = "n/a"
		if (has("rand-small", a, "peak_rss_bytes") && has("rand-small", a, "peak_req_bytes"))
			peak = sprintf("%.2f", num("rand-small", a, "peak_rss_bytes") / num("rand-small", a, "peak_req_bytes"))
		printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", a, speed("rand-small", a), speed("rand-large", a),
		    cell("rand-small", a, "instr_per_call", "x"), cell("rand-large", a, "instr_per_call", "x"), lat, meta, peak
	}
	print ""

	print "## Speed: median ns per call (ratio to glibc)"
	print ""
	printf "| workload |"
	for (i = 1; i <= n; i++)
		printf " %s |", A[i]
	printf "\n|---|"
	for (i = 1; i <= n; i++)
		printf "---|"
	print ""
	for (j = 1; j <= nw; j++) {
		printf "| %s |", W[j]
		for (i = 1; i <= n; i++)
			printf " %s |", speed(W[j], A[i])
		print ""
	}
	print ""
	print "rand-*: a window of 10,000 live blocks, each step frees a random one and allocates its"
	print "successor (8-512 B or 8-64 KiB); lifo, fifo: batches of 100,000 blocks of 8-512 B freed"
	print "newest or oldest first; realloc: resize a random block of 10,000 to 8-1024 B; memalign:"
	print "as rand-small with alignments 16-4096. A call is one malloc, free, realloc or memalign."
	print "Each run is timed in chunks of 250 steps (LIFO/FIFO: 250 calls, mallocs and frees apart);"
	print "a run's figure is its median chunk, so a preemption spoils one chunk, not the run; the table"
	print "gives the median of the runs. Host allocators hand freed memory back to the kernel and pay"
	print "page faults to take it again (rand-large above all); the pool stays resident after the first"
	print "run."
	same = 0; diff = ""
	for (j = 1; j <= nw; j++) {
		if (!has(W[j], "slotheap-linear", "same_heap_as_slotheap"))
			continue
		if (num(W[j], "slotheap-linear", "same_heap_as_slotheap") == 1)
			same++
		else
			diff = diff " " W[j]
	}
	if (same > 0 || diff != "")
		print "Policy check: on the same trace both builds ended with the same heap in " same " workload(s)" (diff != "" ? "; they **differed** in:" diff : "") "."
	if (has("rand-small", "slotheap-linear", "timed_steps"))
		print "slotheap-linear times a shorter prefix of the same trace (" v["rand-small", "slotheap-linear", "timed_steps"] " steps of rand-small) after the same full warm-up."
	print ""

	print "## Instructions per call (callgrind)"
	print ""
	printf "| workload |"
	for (i = 1; i <= n; i++)
		printf " %s |", A[i]
	printf "\n|---|"
	for (i = 1; i <= n; i++)
		printf "---|"
	print ""
	for (j = 1; j <= nw; j++) {
		printf "| %s |", W[j]
		for (i = 1; i <= n; i++)
			printf " %s |", cell(W[j], A[i], "instr_per_call", "x")
		print ""
	}
	print ""
	print "Instructions executed inside the allocator calls (callgrind, collecting only inside the"
	print "driver's one-line wrappers), a run with no timed steps subtracted, divided by the timed calls."
	print ""

	print "## Latency at 100,000 live blocks (ns)"
	print ""
	print "| allocator | malloc/free: median | p99.9 | max | raw p99.9 | raw max | mixed: median | p99.9 | max | raw max |"
	print "|---|---|---|---|---|---|---|---|---|---|"
	for (i = 1; i <= n; i++) {
		a = A[i]
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", a,
		    cell("lat-rand", a, "median_ns", "ns"), cell("lat-rand", a, "p999_ns", "ns"), cell("lat-rand", a, "max_ns", "ns"),
		    cell("lat-rand", a, "p999_ns_raw", "ns"), cell("lat-rand", a, "max_ns_raw", "ns"),
		    cell("lat-mixed", a, "median_ns", "ns"), cell("lat-mixed", a, "p999_ns", "ns"), cell("lat-mixed", a, "max_ns", "ns"),
		    cell("lat-mixed", a, "max_ns_raw", "ns")
	}
	print ""
	print "Each call is timed with the time stamp counter (the cost of an empty reading, " sprintf("%.0f", v["setup", "all", "tick_overhead_ns"]) " ns, subtracted)."
	print "The raw figures include every interrupt and preemption of a shared machine; the others keep, for"
	print "each call of the deterministic trace, its fastest time over the repetitions, which filters them."
	print "Mixed: 70% malloc/free, 20% realloc, 10% memalign. slotheap-linear is left out here (minutes per run)."
	print ""

	print "## Memory"
	print ""
	print "| allocator | metadata B/slot | metadata B/live block (rand-small) | slots in use per live block | peak RSS MiB small (requested) | ratio | peak RSS MiB large (requested) | ratio |"
	print "|---|---|---|---|---|---|---|---|"
	for (i = 1; i <= n; i++) {
		a = A[i]
		rs = "n/a"; rr = "n/a"; ls = "n/a"; lr = "n/a"
		if (has("rand-small", a, "peak_rss_bytes")) {
			rs = mib(num("rand-small", a, "peak_rss_bytes")) " (" mib(num("rand-small", a, "peak_req_bytes")) ")"
			rr = sprintf("%.2f", num("rand-small", a, "peak_rss_bytes") / num("rand-small", a, "peak_req_bytes"))
		}
		if (has("rand-large", a, "peak_rss_bytes")) {
			ls = mib(num("rand-large", a, "peak_rss_bytes")) " (" mib(num("rand-large", a, "peak_req_bytes")) ")"
			lr = sprintf("%.2f", num("rand-large", a, "peak_rss_bytes") / num("rand-large", a, "peak_req_bytes"))
		}
		used = "n/a"
		if (has("rand-small", a, "end_live_blocks") && num("rand-small", a, "end_live_blocks") > 0)
			used = sprintf("%.2f", (num("rand-small", a, "end_live_blocks") + num("rand-small", a, "end_free_blocks")) / num("rand-small", a, "end_live_blocks"))
		printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", a, cell("meta", a, "bytes_per_slot", "x"),
		    cell("meta", a, "bytes_per_live_block", "x"), used, rs, rr, ls, lr
	}
	print ""
	print "Peak RSS: growth of the resident set of a fresh process running the workload with every byte"
	print "of every block written (pool allocators: the pool pages touched, slots included). Metadata of"
	print "slotheap: slot array and hash buckets for " v["meta", "slotheap", "nslots"] " slots (2 × live + 3: enough for any heap state)"
	print "and, but for slotheap-linear, the free index of rand-small's " mib(v["setup", "all", "rand_small_pool"] + 0) " MiB pool (" cell("meta", "slotheap", "index_bytes_per_live_block", "x") " B per live block),"
	print "per slot and per live block; slots in use = (live + free blocks) / live blocks at the end of"
	print "rand-small, what a tighter slot count could get down to. glibc keeps an 8-byte header in every chunk (documented, not"
	print "measured here); jemalloc and mimalloc keep theirs per page or slab: n/a."
	print ""

	print "## Churn and fragmentation (pool allocators)"
	print ""
	print "| allocator | churn 256 KiB, 8-512 B: live/pool | usable/pool | best (slots ×) | churn 64 MiB, 8-64 KiB: live/pool | usable/pool | best (slots ×) | frag 1 MiB: refill usable | largest | frag 64 MiB: refill usable | largest |"
	print "|---|---|---|---|---|---|---|---|---|---|---|"
	for (i = 1; i <= n; i++) {
		a = A[i]
		b1 = has("churn-256K", a, "best_live_share") ? sprintf("%.3f (%.2f)", num("churn-256K", a, "best_live_share"), num("churn-256K", a, "best_slots_factor")) : "n/a"
		b2 = has("churn-64M", a, "best_live_share") ? sprintf("%.3f (%.2f)", num("churn-64M", a, "best_live_share"), num("churn-64M", a, "best_slots_factor")) : "n/a"
		lg1 = has("frag-1M", a, "largest_bytes") ? sprintf("%d B", num("frag-1M", a, "largest_bytes")) : "n/a"
		lg2 = has("frag-64M", a, "largest_bytes") ? sprintf("%d B", num("frag-64M", a, "largest_bytes")) : "n/a"
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", a,
		    cell("churn-256K", a, "live_share", "share"), cell("churn-256K", a, "usable_share", "share"), b1,
		    cell("churn-64M", a, "live_share", "share"), cell("churn-64M", a, "usable_share", "share"), b2,
		    cell("frag-1M", a, "usable_share", "share"), lg1, cell("frag-64M", a, "usable_share", "share"), lg2
	}
	if (has("churn-256K", "policy-ceiling", "live_share"))
		printf "| policy ceiling (reference model, no metadata) | %s | %s | - | %s | %s | - | - | - | - | - |\n",
		    cell("churn-256K", "policy-ceiling", "live_share", "share"), cell("churn-256K", "policy-ceiling", "usable_share", "share"),
		    cell("churn-64M", "policy-ceiling", "live_share", "share"), cell("churn-64M", "policy-ceiling", "usable_share", "share")
	print ""
	print "Churn: random malloc (52%) and free (48%) in a fresh pool until the first allocation fails;"
	print "live/pool = requested bytes of the live blocks over the whole pool (slots and buckets count"
	print "as overhead), usable/pool the same with usable sizes; median of the seeds. Slots: 1.5 × the"
	print "average blocks that fit the pool; \"best\" is the highest median over slot counts of 0.5-2 ×"
	print "that, with its factor. Fragmentation: fill the pool until the first failure, free every other"
	print "block; largest = biggest block still allocatable, refill usable = requested bytes a refill"
	print "with the same sizes gets back over the free bytes. glibc, jemalloc and mimalloc take memory"
	print "from the system as they need it: n/a. Policy ceiling: the same churn runs against the reference"
	print "model given the whole pool and a slot per granule (bench/alloc_policy.c): address-ordered first"
	print "fit with no metadata in the pool and never short of slots: what the policy itself leaves usable."
	print ""
	print "Slot count sweep (churn, live/pool, slotheap):"
	print ""
	print "| slots × | 0.5 | 0.75 | 1.0 | 1.25 | 1.5 | 2.0 |"
	print "|---|---|---|---|---|---|---|"
	split("0.50 0.75 1.00 1.25 1.50 2.00", F, " ")
	for (i = 1; i <= 2; i++) {
		printf "| %s |", Cdesc[C[i]]
		for (j = 1; j <= 6; j++)
			printf " %s |", cell(C[i], "slotheap", "live_share_slots_x" F[j], "share")
		print ""
	}
	print ""

	print "## Growth"
	print ""
	print "Random malloc/free, 8-512 B, median ns per call against live blocks (plot: growth.svg):"
	print ""
	printf "| live |"
	for (i = 1; i <= n; i++)
		printf " %s |", A[i]
	printf "\n|---|"
	for (i = 1; i <= n; i++)
		printf "---|"
	print ""
	split("100 300 1000 3000 10000 30000 100000", G, " ")
	for (j = 1; j <= 7; j++) {
		if (!has("growth-" G[j], "glibc", "ns_per_call") && !has("growth-" G[j], "slotheap", "ns_per_call"))
			continue
		printf "| %s |", G[j]
		for (i = 1; i <= n; i++)
			printf " %s |", cell("growth-" G[j], A[i], "ns_per_call", "ns")
		print ""
	}
	print ""

	print "## Fuzzing throughput"
	print ""
	print "| target | exec/s |"
	print "|---|---|"
	for (i = 1; i <= nfuzz; i++)
		printf "| %s | %s |\n", fuzz_t[i], has("fuzz", fuzz_t[i], "exec_per_sec") ? v["fuzz", fuzz_t[i], "exec_per_sec"] : "n/a (libFuzzer binary not built)"
	if (nfuzz == 0)
		print "| (none) | not run |"
	print ""
	print "Each libFuzzer target (ASan+UBSan) for a few seconds from the repository's seeds; exec/s from"
	print "its final statistics."
	print ""
}
