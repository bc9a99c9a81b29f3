# edubrain: one binary, built with pkg-config'd Debian libraries.
#   make            build/edubrain (optimised)
#   make run        set up, build, create the demo city if missing, serve on 127.0.0.1:8080
#   make test       set up, build with ASan+UBSan, run unit, fuzz-replay, e2e (SQLite, then PostgreSQL: e2e-pg) and browser tests
#   make fuzz       build the libFuzzer targets (clang)
#   make format     clang-format the sources;  make lint  cppcheck + format check
#   make valgrind   the unit tests without sanitizers under valgrind (not part of make test)

CC      ?= cc
PKGS    := libmicrohttpd jansson sqlite3 libsodium libcrypto libpq libcurl liboath xlsxwriter libzip expat
WERROR  ?= -Werror
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
           -Wcast-qual -Wformat=2 -Wvla $(WERROR)
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE $(WARN) -Isrc $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -lpthread -lm
OPT     ?= -O2 -g

DB      ?= build/demo.db
LISTEN  ?= 127.0.0.1:8080

SRC_ALL := $(shell find src -name '*.c' | sort)
SRC_LIB := $(filter-out src/main.c,$(SRC_ALL))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))

# Sources generated at build time: the store's migrations embedded as C strings.
GEN_SRC  := build/gen/store_migrations_sqlite.c build/gen/store_migrations_pg.c build/gen/api_openapi.c
GEN_SRC  += build/gen/indicators_json.c
REL_OBJ  := $(SRC_LIB:%.c=build/rel/%.o) $(GEN_SRC:%.c=build/rel/%.o)
ASAN_OBJ := $(SRC_LIB:%.c=build/asan/%.o) $(GEN_SRC:%.c=build/asan/%.o)
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The same objects without sanitizers, for valgrind (which cannot run ASan binaries).
VG_OBJ   := $(SRC_LIB:%.c=build/vg/%.o) $(GEN_SRC:%.c=build/vg/%.o)

.PHONY: all run test setup setup-test web unit e2e e2e-pg browser fuzz fuzz-replay format lint clean bench \
        valgrind

all: build/edubrain

build/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(OPT) -MMD -MP -c $< -o $@

build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -O1 -g $(SAN) -DEB_TESTING -MMD -MP -c $< -o $@

build/edubrain: $(REL_OBJ) build/rel/src/main.o
	$(CC) $(OPT) -o $@ $^ $(LIBS)

build/asan/edubrain: $(ASAN_OBJ) build/asan/src/main.o
	$(CC) $(SAN) -o $@ $^ $(LIBS)

build/asan/unit_tests: $(ASAN_OBJ) $(UNIT_SRC:%.c=build/asan/%.o)
	$(CC) $(SAN) -o $@ $^ $(LIBS) -lcmocka

build/vg/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -O1 -g -DEB_TESTING -MMD -MP -c $< -o $@

build/vg/unit_tests: $(VG_OBJ) $(UNIT_SRC:%.c=build/vg/%.o)
	$(CC) -o $@ $^ $(LIBS) -lcmocka

build/gen/store_migrations_sqlite.c: tools/embed_sql.sh $(sort $(wildcard src/store/migrations/sqlite/*.sql))
	@mkdir -p $(dir $@)
	sh tools/embed_sql.sh $@ eb__migrations_sqlite $(filter %.sql,$^)

build/gen/store_migrations_pg.c: tools/embed_sql.sh $(sort $(wildcard src/store/migrations/pg/*.sql))
	@mkdir -p $(dir $@)
	sh tools/embed_sql.sh $@ eb__migrations_pg $(filter %.sql,$^)

build/gen/api_openapi.c: tools/embed_text.sh src/api/openapi.json
	@mkdir -p $(dir $@)
	sh tools/embed_text.sh $@ eb_api_openapi_json src/api/openapi.json

build/gen/indicators_json.c: tools/embed_text.sh config/indicators.json
	@mkdir -p $(dir $@)
	sh tools/embed_text.sh $@ eb_indicators_builtin_json config/indicators.json

-include $(shell find build -name '*.d' 2>/dev/null)

setup:
	@tools/setup.sh build

setup-test:
	@tools/setup.sh test

web: setup
	@tools/build_web.sh

# The build runs in a new make so that pkg-config sees the libraries set-up just installed.
run: setup web
	$(MAKE) build/edubrain
	@if [ ! -f "$(DB)" ]; then build/edubrain demo --db "$(DB)" --scale city --admin-password "$${EDUBRAIN_ADMIN_PASSWORD:-edubrain-admin}" --demo-password "$${EDUBRAIN_DEMO_PASSWORD:-edubrain-demo}"; fi
	build/edubrain serve --db "$(DB)" --listen $(LISTEN) --web web/dist

unit: build/asan/unit_tests
	build/asan/unit_tests

# About 20 s: every unit test, the in-process HTTP server included, runs in full.
valgrind: build/vg/unit_tests
	valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
	    build/vg/unit_tests

# Replays every fuzz corpus through the ASan build of the same entry points (no clang needed).
fuzz-replay: $(FUZZ_SRC:fuzz/fuzz_%.c=build/asan/fuzz_replay_%)
	@for t in $^; do n=$${t##*fuzz_replay_}; $$t fuzz/corpus/$$n || exit 1; done

build/asan/fuzz_replay_%: $(ASAN_OBJ) build/asan/fuzz/fuzz_%.o build/asan/fuzz/replay_main.o
	$(CC) $(SAN) -o $@ $^ $(LIBS)
# Objects reached only through the pattern rule above: keep them between runs.
.SECONDARY: $(FUZZ_SRC:%.c=build/asan/%.o) build/asan/fuzz/replay_main.o

e2e: build/asan/edubrain
	EDUBRAIN_BIN=$(CURDIR)/build/asan/edubrain node --test --test-concurrency=2 tests/e2e/

# The same e2e suite against PostgreSQL: a private cluster on 127.0.0.1 (tools/pg_test_server.sh),
# one fresh database per test file (tests/e2e/lib/server.mjs), stopped at the end either way.
# The store_pg unit group runs here too, on the same server (under make unit it skips).
e2e-pg: build/asan/edubrain build/asan/unit_tests
	@dsn=$$(tools/pg_test_server.sh start $$$$) || exit 1; \
	EDUBRAIN_PG=$$dsn build/asan/unit_tests store_pg && \
	EDUBRAIN_PG=$$dsn build/asan/unit_tests brain && \
	EDUBRAIN_PG=$$dsn EDUBRAIN_BIN=$(CURDIR)/build/asan/edubrain \
	    node --test --test-concurrency=2 tests/e2e/; rc=$$?; \
	tools/pg_test_server.sh stop $$$$; exit $$rc

browser: build/asan/edubrain
	EDUBRAIN_BIN=$(CURDIR)/build/asan/edubrain node --test --test-concurrency=1 tests/browser/

test: setup-test web
	$(MAKE) build/edubrain build/asan/edubrain build/asan/unit_tests
	$(MAKE) lint
	$(MAKE) unit
	$(MAKE) valgrind
	$(MAKE) fuzz-replay
	$(MAKE) e2e
	$(MAKE) e2e-pg
	$(MAKE) browser

# libFuzzer builds (clang): build/fuzz/fuzz_<target>; run e.g. build/fuzz/fuzz_json fuzz/corpus/json
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -Isrc -g -O1 -fsanitize=fuzzer,address,undefined -DEB_TESTING \
               $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
fuzz: $(FUZZ_SRC:fuzz/fuzz_%.c=build/fuzz/fuzz_%)
build/fuzz/fuzz_%: fuzz/fuzz_%.c $(SRC_LIB) $(GEN_SRC)
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) -o $@ $< $(SRC_LIB) $(GEN_SRC) $(LIBS)

bench: build/edubrain
	@tools/bench.sh

# In-process benchmark programs (bench/*.c): build/bench/NAME, linked with the release objects.
build/bench/%: bench/%.c $(REL_OBJ)
	@mkdir -p build/bench
	$(CC) $(CFLAGS_BASE) $(OPT) -o $@ $< $(REL_OBJ) $(LIBS)

format:
	clang-format -i $$(find src tests/unit fuzz bench -name '*.[ch]')

lint:
	tools/check_src.sh
	clang-format --dry-run --Werror $$(find src tests/unit fuzz bench -name '*.[ch]')
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 \
	    --suppress=missingIncludeSystem -D_GNU_SOURCE -Isrc src

clean:
	rm -rf build
