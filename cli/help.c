// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The help texts of the skaccel command; man/skaccel.8.scd says the same at length. */
#include <string.h>

#include "cli/cli.h"

static const char overview[] =
    "Usage: skaccel [--pin-dir DIR] COMMAND [OPTIONS]\n"
    "\n"
    "What skaccel does with the local TCP connections of opted-in processes, read from the\n"
    "maps skaccel-helperd pins.\n"
    "\n"
    "Commands:\n"
    "  status [--pid PID] [--port PORT] [--state STATE] [--json]\n"
    "                   every registered socket and recent refusal: process, addresses,\n"
    "                   fast path or TCP and why, bytes each way by path\n"
    "  stats [--json] [--watch [SECONDS]]\n"
    "                   the global counters with their meanings, or their rates\n"
    "  explain [--json] PID\n"
    "                   is it working for this process: shim loaded, helper socket, and\n"
    "                   what became of each of its TCP connections\n"
    "  help [COMMAND]   this help, or a command's\n"
    "\n"
    "Options:\n"
    "  --pin-dir DIR    where skaccel-helperd pins its maps (default " CLI_DEFAULT_PIN_DIR ")\n"
    "  -h, --help       this help\n"
    "  --version        the version\n"
    "\n"
    "Exit status:\n"
    "  0  success\n"
    "  1  failure (reading the maps or /proc failed, ...)\n"
    "  2  bad command line\n"
    "  3  skaccel-helperd is not running (nothing pinned in the pin directory)\n"
    "  4  permission denied (the maps need root: CAP_BPF and access to the pin directory)\n"
    "  5  explain: no such process\n"
    "\n"
    "See skaccel(8).\n";

static const char status_help[] =
    "Usage: skaccel status [--pid PID] [--port PORT] [--state STATE] [--json]\n"
    "\n"
    "One row per registered socket, and one per recent refusal whose socket is still open:\n"
    "  PID, COMM   the process that registered it (or was refused)\n"
    "  LOCAL, REMOTE  its addresses, IPv4 or [IPv6]\n"
    "  STATE       fast: its writes go straight to the peer; tcp: they go through TCP\n"
    "  TX-REDIR, TX-TCP  bytes it sent by the fast path and by TCP\n"
    "  RX-REDIR, RX-TCP  bytes it received by each (its peer's sending side; - if the peer\n"
    "              is not registered)\n"
    "  AGE         since it was registered or refused\n"
    "  REASON      why it is on TCP: waiting (peer not opted in), peer closed, refused by\n"
    "              policy (with the rule and its line), quota, backpressure (reader too far\n"
    "              behind), left its connection, small-write rule, ...\n"
    "\n"
    "Options:\n"
    "  --pid PID      only sockets of this process\n"
    "  --port PORT    only sockets with this local or remote port\n"
    "  --state STATE  fast, tcp, waiting (registered, peer not) or refused\n"
    "  --json         one JSON object: {\"sockets\": [...], ...}, the same rows\n";

static const char stats_help[] =
    "Usage: skaccel stats [--json] [--watch [SECONDS]]\n"
    "\n"
    "The data-path counters (bytes and messages by path, fallbacks by reason), the helper's\n"
    "registration outcomes, and the live sockets, each with its meaning. They live in the\n"
    "pinned maps, so they survive helper restarts. skaccel-helperd --stats is the same.\n"
    "\n"
    "Options:\n"
    "  --json               one JSON object, stable snake_case keys\n"
    "  --watch [SECONDS]    every SECONDS (default 1, at most 3600), the rate of each\n"
    "                       counter that moved, until interrupted; with --json one object\n"
    "                       per line, every counter as KEY_per_s\n";

static const char explain_help[] =
    "Usage: skaccel explain [--json] PID\n"
    "\n"
    "For one process: whether libskaccel.so is mapped in it (/proc/PID/maps), which helper\n"
    "socket it talks to (SKACCEL_SOCKET in its environment, or the default), and for each\n"
    "of its TCP sockets (matched to the maps with sock_diag, inside its network namespace)\n"
    "one verdict: fast path; TCP and why (peer not opted in, refused by policy, ...); or\n"
    "not registered and why (shim not loaded, not established, peer on another host, made\n"
    "before the shim was loaded). Needs root for another user's process.\n"
    "\n"
    "Options:\n"
    "  --json    one JSON object\n";

bool cli_help(FILE *out, const char *cmd)
{
	if (!cmd)
		fputs(overview, out);
	else if (!strcmp(cmd, "status"))
		fputs(status_help, out);
	else if (!strcmp(cmd, "stats"))
		fputs(stats_help, out);
	else if (!strcmp(cmd, "explain"))
		fputs(explain_help, out);
	else if (!strcmp(cmd, "help"))
		fputs(overview, out);
	else
		return false;
	return true;
}
