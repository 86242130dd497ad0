// SPDX-License-Identifier: Apache-2.0
// nilcgo: a cgo (dynamically linked) Go program that startpath rewrites.
// A nil dereference must still be a recoverable panic (page 0 unmapped),
// os/exec must still work (Go's vfork-style clone), and the output must be
// the same with and without the library.  `nilcgo env` runs /usr/bin/env
// with an empty environment instead, then prints "child=PID".
package main

// int cgo_add(int a, int b) { return a + b; }
import "C"

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

type T struct{ x int }

func deref(p *T) (v int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return p.x, nil
}

func pageZeroMapped() bool {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "00000000-") {
			return true
		}
	}
	return false
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "env" {
		cmd := exec.Command("/usr/bin/env")
		cmd.Env = []string{}
		out, err := cmd.Output()
		if err != nil {
			fmt.Println("env failed:", err)
			os.Exit(1)
		}
		fmt.Printf("%schild=%d\n", out, cmd.Process.Pid)
		os.Exit(0)
	}
	for i := 0; i < 3; i++ {
		_, err := deref(nil)
		fmt.Println("recovered:", err)
	}
	fmt.Println("cgo:", C.cgo_add(2, 3))
	out, err := exec.Command("/bin/echo", "exec", "ok").Output()
	fmt.Printf("exec: %s err=%v\n", strings.TrimSpace(string(out)), err)
	fmt.Println("page 0 mapped:", pageZeroMapped())
	os.Exit(3)
}
