# tests/soak: the soak run (to come) and, through tests/attack/attack.mk, the
# attack suite's server and client.
include tests/attack/attack.mk
