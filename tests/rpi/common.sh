# tests/rpi/common.sh: kept for the scripts that source it by this name; the shared test library is tests/lib/common.sh.
# shellcheck shell=bash source-path=SCRIPTDIR source=../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
