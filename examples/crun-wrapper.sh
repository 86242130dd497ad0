#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# crun-wrapper.sh - put first in PATH as "crun" (or set as a runtime's binary)
# to record every crun invocation under startpath.  Maps:
#   startpath report /run/startpath
LIB=${STARTPATH_LIB:-/usr/local/lib/startpath/libstartpath.so}
REAL=${STARTPATH_REAL_CRUN:-/usr/bin/crun}
export STARTPATH_DIR=${STARTPATH_DIR:-/run/startpath}
# crun's stderr may be parsed by its caller (`crun state`): the library's
# messages go to a file (lib.log.<pid>), never there.
export STARTPATH_LOG=${STARTPATH_LOG:-$STARTPATH_DIR/lib.log}
export LD_PRELOAD="$LIB${LD_PRELOAD:+:$LD_PRELOAD}"
exec "$REAL" "$@"
