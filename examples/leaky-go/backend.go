package main

// The demo backend (-role backend), and how the service starts it.
//
//	GET|POST /ok          answers at once
//	GET      /slow?ms=N   answers after N ms (default 20)
//	GET      /hang        never answers; returns only when the client goes away
//
// It runs as a child process of the service so that its goroutines (one per hanging call) are
// never counted against the service. The child gets the parent's pid: the kernel sends it
// SIGTERM when the parent dies (Pdeathsig), and it also exits when its parent changes.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func runBackend(port, parent int) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte(strings.Repeat("k", 255) + "\n"))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil {
			ms = 20
		}
		time.Sleep(time.Duration(ms) * time.Millisecond)
		_, _ = w.Write([]byte("slow\n"))
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // the client went away
	})
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		fail("backend listen: %v", err)
	}
	if parent > 0 {
		go func() {
			for os.Getppid() == parent {
				time.Sleep(time.Second)
			}
			os.Exit(0)
		}()
	}
	fmt.Printf("backend listening on 127.0.0.1:%d\n", ln.Addr().(*net.TCPAddr).Port)
	fail("backend serve: %v", http.Serve(ln, mux))
}

// spawnBackend starts this binary as the backend on a free port and returns its port and pid.
// The child's environment drops LD_PRELOAD and LEAKSCOPE_*, like the C++ service's.
func spawnBackend() (port, pid int, err error) {
	cmd := exec.Command(selfPath(), "-role", "backend", "-port", "0", "-parent", strconv.Itoa(os.Getpid()))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LD_PRELOAD=") && !strings.HasPrefix(kv, "LEAKSCOPE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	found := make(chan int, 1)
	go func() {
		const prefix = "backend listening on 127.0.0.1:"
		sc := bufio.NewScanner(out)
		p := 0
		for p == 0 && sc.Scan() {
			if strings.HasPrefix(sc.Text(), prefix) {
				p, _ = strconv.Atoi(strings.TrimPrefix(sc.Text(), prefix))
			}
		}
		found <- p
		_, _ = io.Copy(io.Discard, out) // keep draining so the child never blocks on stdout
	}()
	select {
	case port = <-found:
	case <-time.After(10 * time.Second):
	}
	if port <= 0 {
		_ = cmd.Process.Kill()
		return 0, 0, fmt.Errorf("%s did not announce its port", cmd.Path)
	}
	return port, cmd.Process.Pid, nil
}
