package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memSampler reads a local process's resident memory from /proc at an
// interval (Linux only; elsewhere it reports nothing).
type memSampler struct {
	pid  int
	stop func() *memReport
}

// startMemSampler samples pid every interval until stop is called.
func startMemSampler(pid int, interval time.Duration) *memSampler {
	var (
		mu   sync.Mutex
		rep  = memReport{PID: pid}
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	sample := func() {
		rss, hwm, ok := readProcMem(pid)
		if !ok {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		rep.Samples++
		rep.PeakRSS = max(rep.PeakRSS, rss)
		rep.FinalRSS = rss
		rep.HWM = hwm
	}
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		sample()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	})
	return &memSampler{pid: pid, stop: func() *memReport {
		close(done)
		wg.Wait()
		sample()
		mu.Lock()
		defer mu.Unlock()
		if rep.Samples == 0 {
			return nil
		}
		r := rep
		return &r
	}}
}

// readProcMem returns VmRSS and VmHWM of pid in bytes.
func readProcMem(pid int) (rss, hwm int64, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, false
	}
	return parseProcStatus(b)
}

// parseProcStatus reads the VmRSS and VmHWM lines ("VmRSS:   1234 kB") of
// a /proc/PID/status file.
func parseProcStatus(b []byte) (rss, hwm int64, ok bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	var haveRSS bool
	for sc.Scan() {
		name, rest, found := strings.Cut(sc.Text(), ":")
		if !found || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if name == "VmRSS" {
			rss, haveRSS = n*1024, true
		} else {
			hwm = n * 1024
		}
	}
	return rss, hwm, haveRSS
}
