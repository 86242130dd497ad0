/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - the startpath command: subcommand dispatch and help.
 */
#include "cli.h"

#include <string.h>

static const char usage[] =
	"Usage: startpath COMMAND [ARGS...]\n"
	"\n"
	"Where does a container cold start spend its time?\n"
	"\n"
	"Commands:\n"
	"  run [OPTIONS] -- CMD...   run CMD under libstartpath.so and print its Start Path Map\n"
	"  report DIR [OPTIONS]      print the Start Path Map(s) recorded in DIR\n"
	"  bench -n N [OPTIONS] -- CMD...  N cold starts, per-phase statistics\n"
	"  diff BASE.json NEW.json   compare two benches; exit 1 on a regression\n"
	"  export --format chrome|otlp DIR   the maps as Chrome trace / Perfetto or OTLP JSON\n"
	"  watch DIR [OUTPUTS]       follow a live directory: every start to Prometheus,\n"
	"                            OTLP or NDJSON, once\n"
	"  dump FILE.ring            print one ring file as a per-process JSON document\n"
	"  wrap -- RUNTIME ARGS...   run a runtime under the library (scripts/startpath-runc)\n"
	"  version                   print the version\n"
	"  help [COMMAND]            this text, or a command's\n"
	"\n"
	"Exit codes: 0 ok, 1 failure (run: the command's own status), 2 usage or input error.\n"
	"See 'startpath COMMAND --help'.\n";

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		fputs(usage, stderr);
		return SP_EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		if (argc > 2 && strcmp(cmd, "help") == 0) {
			char *h[] = { argv[2], "--help", NULL };

			if (strcmp(argv[2], "run") == 0)
				return sp_cmd_run(2, h);
			if (strcmp(argv[2], "report") == 0)
				return sp_cmd_report(2, h);
			if (strcmp(argv[2], "bench") == 0)
				return sp_cmd_bench(2, h);
			if (strcmp(argv[2], "diff") == 0)
				return sp_cmd_diff(2, h);
			if (strcmp(argv[2], "export") == 0)
				return sp_cmd_export(2, h);
			if (strcmp(argv[2], "watch") == 0)
				return sp_cmd_watch(2, h);
		}
		fputs(usage, stdout);
		return SP_EXIT_OK;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("startpath %s\n", STARTPATH_VERSION);
		return SP_EXIT_OK;
	}
	if (strcmp(cmd, "run") == 0)
		return sp_cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "report") == 0)
		return sp_cmd_report(argc - 1, argv + 1);
	if (strcmp(cmd, "bench") == 0)
		return sp_cmd_bench(argc - 1, argv + 1);
	if (strcmp(cmd, "diff") == 0)
		return sp_cmd_diff(argc - 1, argv + 1);
	if (strcmp(cmd, "export") == 0)
		return sp_cmd_export(argc - 1, argv + 1);
	if (strcmp(cmd, "wrap") == 0)
		return sp_cmd_wrap(argc - 1, argv + 1);
	if (strcmp(cmd, "dump") == 0)
		return sp_cmd_dump(argc - 1, argv + 1);
	if (strcmp(cmd, "watch") == 0)
		return sp_cmd_watch(argc - 1, argv + 1);
	sp_err("unknown command '%s'", cmd);
	fputs(usage, stderr);
	return SP_EXIT_USAGE;
}
