// SPDX-License-Identifier: Apache-2.0
//
// A static Go program (built with CGO_ENABLED=0) for startpath-exec's tests:
// goroutines, a tmpfs mount in a new mount namespace (root only), os/exec
// of a dynamic program and of itself through /proc/self/exe, a recovered
// nil dereference, signals, and exit code 3.  Its output is deterministic
// so that runs with and without the launcher can be compared byte for byte.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
)

func mountInNewNS(dir string) string {
	if os.Geteuid() != 0 {
		return "mount: skipped (not root)"
	}
	res := make(chan string)
	go func() {
		// This thread changes namespace and is never unlocked: Go ends
		// the thread when the goroutine returns.
		runtime.LockOSThread()
		if err := syscall.Unshare(syscall.CLONE_NEWNS); err != nil {
			res <- "unshare: " + err.Error()
			return
		}
		if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
			res <- "private: " + err.Error()
			return
		}
		if err := syscall.Mount("startpath-static", dir, "tmpfs", 0, "size=1m"); err != nil {
			res <- "mount: " + err.Error()
			return
		}
		if err := syscall.Unmount(dir, 0); err != nil {
			res <- "umount: " + err.Error()
			return
		}
		res <- "mount: ok"
	}()
	return <-res
}

func nilDeref() (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint("recovered: ", r)
		}
	}()
	var p *int
	*p = 1
	return "not recovered"
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		exe, _ := os.Executable()
		fmt.Println("child: argv", os.Args[1:])
		fmt.Println("executable (child):", exe)
		os.Exit(5)
	}
	exe, err := os.Executable()
	fmt.Println("executable:", exe, err)
	cmdline, _ := os.ReadFile("/proc/self/cmdline")
	fmt.Printf("cmdline: %q\n", cmdline)
	var wg sync.WaitGroup
	sums := make([]int, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s := 0
			for k := 0; k < 200000; k++ {
				s += k % (i + 1)
			}
			sums[i] = s
		}(i)
	}
	wg.Wait()
	fmt.Println("goroutines:", sums)
	dir, _ := os.MkdirTemp("", "startpath-static-")
	fmt.Println(mountInNewNS(dir))
	os.Remove(dir)
	fmt.Println(nilDeref())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	for i := 0; i < 3; i++ {
		syscall.Kill(os.Getpid(), syscall.SIGUSR1)
		fmt.Println("signal:", <-sig)
	}

	out, err := exec.Command("/bin/echo", "exec", "ok").Output()
	fmt.Printf("exec: %s err=%v\n", out[:len(out)-1], err)
	out, err = exec.Command("/proc/self/exe", "child", "x").Output()
	code := -1
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	fmt.Printf("self: %q exit=%d\n", out, code)
	os.Exit(3)
}
