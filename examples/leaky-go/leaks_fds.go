package main

// Descriptor patterns: files and connections opened per request and never closed.
//
//	open-file     opens /dev/urandom for a request id through a buffered reader, and keeps the
//	              reader (for "later") in a list, never closing the file. In Go an unreachable
//	              *os.File is closed by its finalizer at some later GC, so the descriptor leaks
//	              that bite are the ones still referenced, as here. Fix: defer f.Close().
//	call-backend  POSTs 2 KiB to the backend and neither reads nor closes the response body:
//	              the connection can never be reused or closed, and keeps its descriptor, its
//	              readLoop and writeLoop goroutines, and its buffers. Fix: a pooled keep-alive
//	              client with a timeout, the body drained and closed on every call.

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const pooledConns = 8

var (
	backendURL string
	filesMu    sync.Mutex
	keptFiles  []*bufio.Reader // guarded by filesMu; one per leak request, never closed
	leakedConn atomic.Int64
	// No timeout, and a body nobody closes: the leaky call's client.
	leakyClient = &http.Client{Transport: &http.Transport{}}
	// The fix: bounded keep-alive pool, timeouts.
	pooledClient = &http.Client{
		Timeout: 2 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        pooledConns,
			MaxIdleConnsPerHost: pooledConns,
			IdleConnTimeout:     90 * time.Second,
		},
	}
)

func setBackend(port int) { backendURL = "http://127.0.0.1:" + strconv.Itoa(port) }

//go:noinline
func leakOpenFile() int64 {
	filesMu.Lock()
	defer filesMu.Unlock()
	if len(keptFiles) >= capFds {
		return capReached
	}
	f, err := os.Open("/dev/urandom")
	if err != nil {
		return failed
	}
	r := bufio.NewReaderSize(f, 4096)
	var id [8]byte
	if _, err := io.ReadFull(r, id[:]); err != nil {
		return failed
	}
	keptFiles = append(keptFiles, r) // kept for "later"; f is never closed
	return int64(len(keptFiles))
}

//go:noinline
func fixedOpenFile() int64 {
	f, err := os.Open("/dev/urandom")
	if err != nil {
		return failed
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 4096)
	var id [8]byte
	if _, err := io.ReadFull(r, id[:]); err != nil {
		return failed
	}
	return 0
}

//go:noinline
func leakCallBackend() int64 {
	if leakedConn.Load() >= capFds {
		return capReached
	}
	payload := make([]byte, leakBytes)
	resp, err := leakyClient.Post(backendURL+"/ok", "application/octet-stream", bytes.NewReader(payload))
	if err != nil {
		return failed
	}
	_ = resp.StatusCode // the body is neither read nor closed
	return leakedConn.Add(1)
}

//go:noinline
func fixedCallBackend() int64 {
	payload := make([]byte, leakBytes)
	resp, err := pooledClient.Post(backendURL+"/ok", "application/octet-stream", bytes.NewReader(payload))
	if err != nil {
		return failed
	}
	_, _ = io.Copy(io.Discard, resp.Body) // drain, so the connection goes back to the pool
	resp.Body.Close()
	return pooledConns
}

// warmPooledClient opens the pool's connections at startup (concurrent slow calls force one
// connection each), so they belong to the idle baseline and never look like growth.
func warmPooledClient() {
	var wg sync.WaitGroup
	for i := 0; i < pooledConns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp, err := pooledClient.Get(backendURL + "/slow?ms=50"); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
}
