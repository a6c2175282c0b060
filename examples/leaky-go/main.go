// Command leaky-go is the Go twin of examples/leaky-service: an HTTP service that leaks in every
// way Go services really leak, each pattern beside its fix, with net/http/pprof on a separate
// loopback port so that its own heap and goroutine profiles show where. Standard library only.
//
//	GET /<pattern>           the leak       GET /<pattern>?fixed=1   the fix
//	/append-slice /hanging-thread /open-file /call-backend /fanout /metrics-by-path
//	/request-context, /steady-cache (the control: an LRU cache that fills, then stays flat),
//	/metrics (Prometheus text 0.0.4).
//
// The same binary is its own backend (-role backend), started as a child process so that the
// backend's goroutines and sockets are never counted against the service. Start-up prints, on
// stdout, one line each: "backend on 127.0.0.1:PORT pid PID", "pprof on 127.0.0.1:PORT" and,
// last, "listening on 127.0.0.1:PORT". The functions that leak are listed in
// examples/ground_truth.json; each is marked go:noinline so its frame is always its own.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux, served on -debug-port only
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

type options struct {
	host, portFile  string
	port, debugPort int
	backendPort     int
	role            string
	parent          int
	memProfileRate  int
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.host, "host", "127.0.0.1", "address to bind (loopback by default)")
	flag.IntVar(&o.port, "port", 0, "service port, 0 = pick a free one (announced on stdout)")
	flag.IntVar(&o.debugPort, "debug-port", 0, "net/http/pprof port on loopback, 0 = pick, -1 = off")
	flag.IntVar(&o.backendPort, "backend-port", 0, "use a running backend on this loopback port (0 = start one)")
	flag.StringVar(&o.portFile, "port-file", "", "also write the service port to this file")
	flag.StringVar(&o.role, "role", "service", "service, or backend (the demo backend, started by the service)")
	flag.IntVar(&o.memProfileRate, "mem-profile-rate", 0, "runtime.MemProfileRate in bytes (0 = Go's default, 512 KiB)")
	flag.IntVar(&o.parent, "parent", 0, "backend role: exit when this process is no longer our parent")
	flag.Parse()
	return o
}

func main() {
	o := parseFlags()
	if o.role == "backend" {
		runBackend(o.port, o.parent)
		return
	}
	if o.memProfileRate > 0 {
		runtime.MemProfileRate = o.memProfileRate
	}
	raiseFdLimit()
	if o.backendPort == 0 {
		port, pid, err := spawnBackend()
		if err != nil {
			fmt.Fprintf(os.Stderr, "leaky-go: error: backend: %v\n", err)
			os.Exit(1)
		}
		o.backendPort = port
		fmt.Printf("backend on 127.0.0.1:%d pid %d\n", port, pid)
	}
	setBackend(o.backendPort)
	startFixedPools()
	if o.debugPort >= 0 {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(o.debugPort)))
		if err != nil {
			fail("pprof listener: %v", err)
		}
		fmt.Printf("pprof on 127.0.0.1:%d\n", ln.Addr().(*net.TCPAddr).Port)
		go http.Serve(ln, http.DefaultServeMux)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(o.host, strconv.Itoa(o.port)))
	if err != nil {
		fail("listen: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	fmt.Printf("listening on %s:%d\n", o.host, port)
	if o.portFile != "" {
		tmp := o.portFile + ".tmp" // readers never see a half-written file
		if os.WriteFile(tmp, []byte(strconv.Itoa(port)+"\n"), 0o644) != nil || os.Rename(tmp, o.portFile) != nil {
			fail("writing %s", o.portFile)
		}
	}
	fail("serve: %v", http.Serve(ln, serviceMux()))
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "leaky-go: error: "+format+"\n", args...)
	os.Exit(1)
}

// Descriptor leaks need room: raise the soft limit on open files to the hard limit.
func raiseFdLimit() {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

var requestIDs atomic.Int64
var cacheMisses atomic.Int64

type pattern func(r *http.Request) int64

// servePattern answers GET route (and route/...) with leak, or fixed when ?fixed=1.
func servePattern(mux *http.ServeMux, route string, leak, fixed pattern) {
	handler := func(w http.ResponseWriter, r *http.Request) {
		isFixed := r.URL.Query().Get("fixed") == "1"
		variant := "leak"
		if route == "/steady-cache" {
			variant = "control"
		} else if isFixed {
			variant = "fixed"
		}
		var held int64
		if isFixed {
			held = fixed(r)
		} else {
			held = leak(r)
		}
		countRouteRequest(route, variant)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		switch held {
		case capReached:
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "%s %s: safety cap reached, not leaking more\n", route, variant)
		case failed:
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, "%s %s: failed (is the backend up?)\n", route, variant)
		default:
			fmt.Fprintf(w, "%s %s: holds %d\n", route, variant, held)
		}
	}
	mux.HandleFunc(route, handler)
	mux.HandleFunc(route+"/", handler)
}

func serviceMux() *http.ServeMux {
	mux := http.NewServeMux()
	servePattern(mux, "/append-slice",
		func(*http.Request) int64 { return leakAppendSlice(requestIDs.Add(1)) },
		func(*http.Request) int64 { return fixedAppendSlice(requestIDs.Add(1)) })
	servePattern(mux, "/hanging-thread",
		func(*http.Request) int64 { return leakHangingThread() },
		func(*http.Request) int64 { return fixedHangingThread() })
	servePattern(mux, "/open-file",
		func(*http.Request) int64 { return leakOpenFile() },
		func(*http.Request) int64 { return fixedOpenFile() })
	servePattern(mux, "/call-backend",
		func(*http.Request) int64 { return leakCallBackend() },
		func(*http.Request) int64 { return fixedCallBackend() })
	servePattern(mux, "/fanout",
		func(*http.Request) int64 { return leakFanout() },
		func(*http.Request) int64 { return fixedFanout() })
	servePattern(mux, "/metrics-by-path",
		func(r *http.Request) int64 { return leakMetricsByPath(r.URL.RequestURI()) },
		func(r *http.Request) int64 { return fixedMetricsByPath(r.URL.Path) })
	servePattern(mux, "/request-context",
		func(r *http.Request) int64 { return leakRequestContext(r.URL.RequestURI()) },
		func(r *http.Request) int64 { return fixedRequestContext(r.URL.RequestURI()) })
	// The control: ?key=N looks N up; without it, keys cycle through 4x the capacity, so three
	// lookups in four miss and evict (steady churn at a flat size).
	cache := func(r *http.Request) int64 {
		if k := r.URL.Query().Get("key"); k != "" {
			n, _ := strconv.ParseInt(k, 10, 64)
			return steadyCacheLookup(n)
		}
		return steadyCacheLookup(cacheMisses.Add(1) % 4096)
	}
	servePattern(mux, "/steady-cache", cache, cache)
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		countRouteRequest("/metrics", "-")
		w.Header().Set("Content-Type", prometheusContentType)
		_, _ = w.Write([]byte(renderMetrics()))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "leaky-go: GET "+strings.Join(routes[:7], " ")+
			" (add ?fixed=1 for the fix), /steady-cache, /metrics")
	})
	return mux
}

// selfPath is this executable, to start it again as the backend.
func selfPath() string {
	p, err := os.Executable()
	if err != nil {
		return os.Args[0]
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}
