// SPDX-License-Identifier: Apache-2.0
//
// containerd-shim-runc-v2 as upstream's cmd/containerd-shim-runc-v2 starts
// it, built by t_static_ctr from Debian's packaged containerd sources
// (golang-github-containerd-containerd-dev) with CGO_ENABLED=0: a static
// shim, as upstream ships it.
package main

import (
	"context"

	"github.com/containerd/containerd/runtime/v2/runc/manager"
	_ "github.com/containerd/containerd/runtime/v2/runc/task/plugin"
	"github.com/containerd/containerd/runtime/v2/shim"
)

func main() {
	shim.RunManager(context.Background(), manager.NewShimManager("io.containerd.runc.v2"))
}
