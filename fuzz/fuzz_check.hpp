// What a fuzz target asserts beyond "no crash, no sanitizer report, no
// exception": FUZZ_CHECK(cond) aborts with the condition when a property
// (a round trip, a bound) does not hold, so libFuzzer saves the input.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (false)
