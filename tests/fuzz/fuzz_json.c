/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_json: libFuzzer target for the CLI's JSON readers: a per-process
 * file (startpath/proc/v1) and, through phase building, a map of it. */
#include <stdlib.h>
#include <string.h>
#include "phases.h"
#include "procjson.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct sp_proc p;
	char err[256];

	if (sp_proc_from_json((const char *)data, size, &p, err, sizeof(err)) == 0) {
		struct sp_map *maps;
		int n = sp_maps_build(&p, 1, 0, &maps);

		if (n >= 0)
			sp_maps_free(maps, n);
		sp_proc_free(&p);
	}
	return 0;
}
