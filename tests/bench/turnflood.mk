# Builds the benchmark's load generator out of the source tree's STUN codec.
#   make -f tests/bench/turnflood.mk [OUT=DIR]
#   (from anywhere: paths are relative to this file)
# Not part of `make check`; tests/bench/run.sh calls it.
SRC := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/../..)
OUT ?= $(SRC)/tests/bench/build
CC ?= cc
CFLAGS ?= -O2 -g
BENCH_CFLAGS = -std=c11 -Wall -Wextra -pthread -I$(SRC)
CODEC = $(addprefix $(SRC)/stun/,type.c decode.c encode.c attr.c integrity.c)

$(OUT)/turnflood: $(SRC)/tests/bench/turnflood.c $(CODEC) $(SRC)/stun/stun.h \
		$(SRC)/stun/stun_int.h
	@mkdir -p $(OUT)
	$(CC) $(BENCH_CFLAGS) $(CFLAGS) -o $@ $(SRC)/tests/bench/turnflood.c $(CODEC) \
		-lcrypto -lz

clean:
	rm -f $(OUT)/turnflood

.PHONY: clean
