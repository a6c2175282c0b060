package main

// Goroutine patterns: goroutines parked forever on something that never comes.
//
//	hanging-thread  each request starts a goroutine that waits a day for an event that never
//	                fires. Fix: poolWorkers goroutines started at startup and a bounded queue;
//	                each job waits at most jobDeadline.
//	fanout          each request calls three backends in parallel (/ok, /slow, /hang), one
//	                goroutine per call, with no deadline, and takes the first two results from
//	                an unbuffered channel. The /hang call never returns: its goroutine, its 4 KiB
//	                buffer and its connection (with net/http's readLoop and writeLoop goroutines)
//	                stay forever. Fix: a context with a deadline, cancelled once two replied, and
//	                a buffered channel so no sender can block; all three calls are waited for.

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

const (
	poolWorkers    = 4
	poolQueue      = 64
	jobDeadline    = 2 * time.Millisecond
	fanoutBuffer   = 4096
	fanoutDeadline = 500 * time.Millisecond
)

var fanoutPaths = []string{"/ok", "/slow?ms=5", "/hang"}

var (
	hungGoroutines atomic.Int64
	fanoutLeaked   atomic.Int64
	poolJobs       = make(chan chan struct{}, poolQueue)
	// No timeout anywhere: the leaky fan-out's client.
	unboundedClient = &http.Client{Transport: &http.Transport{}}
)

//go:noinline
func leakHangingThread() int64 {
	if hungGoroutines.Add(1) > capGoroutine {
		hungGoroutines.Add(-1)
		return capReached
	}
	go func() {
		time.Sleep(24 * time.Hour) // waits for an event that never comes
		hungGoroutines.Add(-1)
	}()
	return hungGoroutines.Load()
}

func poolWorker() {
	for done := range poolJobs {
		ctx, cancel := context.WithTimeout(context.Background(), jobDeadline)
		<-ctx.Done() // waits for the event, but only this long
		cancel()
		close(done)
	}
}

//go:noinline
func fixedHangingThread() int64 {
	done := make(chan struct{})
	poolJobs <- done // blocks while the queue is full: backpressure
	<-done
	return poolWorkers
}

//go:noinline
func leakFanout() int64 {
	if fanoutLeaked.Load() >= capGoroutine {
		return capReached
	}
	results := make(chan int) // unbuffered: a late sender blocks forever
	for _, path := range fanoutPaths {
		buf := make([]byte, fanoutBuffer)
		// Each goroutine calls the client itself (no shared helper), so the innermost frame of
		// ours on a parked goroutine's stack is main.leakFanout.func1.
		go func(path string, buf []byte) {
			n := -1
			if resp, err := unboundedClient.Get(backendURL + path); err == nil { // no deadline
				n, _ = io.ReadFull(resp.Body, buf)
				resp.Body.Close()
			}
			results <- n
		}(path, buf)
	}
	<-results
	<-results // /ok and /slow; nobody waits for, or cancels, /hang
	return fanoutLeaked.Add(1)
}

//go:noinline
func fixedFanout() int64 {
	ctx, cancel := context.WithTimeout(context.Background(), fanoutDeadline)
	defer cancel()
	results := make(chan int, len(fanoutPaths)) // buffered: no sender ever blocks
	for _, path := range fanoutPaths {
		buf := make([]byte, fanoutBuffer)
		go func(path string, buf []byte) {
			n := -1
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, backendURL+path, nil)
			if err == nil {
				if resp, err := pooledClient.Do(req); err == nil {
					n, _ = io.ReadFull(resp.Body, buf)
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
			results <- n
		}(path, buf)
	}
	replied := 0
	for i := 0; i < len(fanoutPaths); i++ {
		if <-results >= 0 {
			replied++
		}
		if i == 1 {
			cancel() // two are in: cancel the rest, then wait for it to end
		}
	}
	if replied < 2 {
		return failed
	}
	return 0
}

func startFixedPools() {
	for i := 0; i < poolWorkers; i++ {
		go poolWorker()
	}
	warmPooledClient()
}
