/* SPDX-License-Identifier: Apache-2.0 */
/* profiles.c - the list of profiles, one file each in this directory. */
#include <string.h>
#include "phases.h"

extern const struct sp_profile sp_profile_crun, sp_profile_runc, sp_profile_containerd,
	sp_profile_pod, sp_profile_pod_container, sp_profile_docker, sp_profile_podman, sp_profile_podman_crun,
	sp_profile_exec;

const struct sp_profile *const sp_profiles[] = {
	&sp_profile_crun, &sp_profile_runc, &sp_profile_containerd, &sp_profile_pod,
	&sp_profile_pod_container, &sp_profile_docker, &sp_profile_podman,
	&sp_profile_podman_crun, &sp_profile_exec,
};
const size_t sp_nprofiles = sizeof(sp_profiles) / sizeof(sp_profiles[0]);

const struct sp_profile *sp_profile_by_name(const char *name)
{
	for (size_t i = 0; name && i < sp_nprofiles; i++)
		if (strcmp(sp_profiles[i]->name, name) == 0)
			return sp_profiles[i];
	return NULL;
}
