/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_ring: libFuzzer target for the ring-file reader: attach, read every
 * record, build the process (pairing, strings), serialise it, and check
 * that the library's writer prints what the CLI's cJSON tree prints. */
#include <stdlib.h>
#include <string.h>
#include "model.h"
#include "procjson.h"
#include "ring.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct sp_ring r;
	struct sp_proc p;
	const char *why;
	void *mem;

	if (size < SP_HDR_SIZE)
		return 0;
	mem = malloc(size);
	if (!mem)
		return 0;
	memcpy(mem, data, size);
	/* Small rings so the fuzzer reaches records: capacity from the input. */
	if (sp_ring_attach(&r, mem, size, &why) == 0 && sp_proc_from_ring(&r, &p, 0) == 0) {
		cJSON *j = sp_proc_to_json(&p);
		char *want = j ? cJSON_PrintUnformatted(j) : NULL;
		char *got = sp_proc_text(&p, NULL);

		if (want && got && strcmp(want, got) != 0)
			__builtin_trap(); /* the two serialisations differ */
		free(want);
		free(got);
		cJSON_Delete(j);
		sp_proc_free(&p);
	}
	free(mem);
	return 0;
}
