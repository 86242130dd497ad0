#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# crun-wrapper.sh - put first in PATH as "crun" (or set as a runtime's binary)
# to record every crun invocation under startpath.  Maps:
#   startpath report /run/startpath
LIB=${STARTPATH_LIB:-/usr/local/lib/startpath/libstartpath.so}
REAL=${STARTPATH_REAL_CRUN:-/usr/bin/crun}
export STARTPATH_DIR=${STARTPATH_DIR:-/run/startpath}
export LD_PRELOAD="$LIB${LD_PRELOAD:+:$LD_PRELOAD}"
exec "$REAL" "$@"
