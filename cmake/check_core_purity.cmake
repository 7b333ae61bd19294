# Fails when any src/core file pulls in (directly or transitively) a header of
# Boost.Asio, Boost.Beast or ZooKeeper: the core must stay free of I/O.
# Preprocessing (-E -H) is enough to see the include tree and takes a tenth of
# the time a syntax check would (the .cpp files are compiled by the build
# anyway); the check is not on the build's critical path either.
string(REPLACE "|" ";" FILES "${FILES}")
foreach(f IN LISTS FILES)
  if(f STREQUAL "")
    continue()
  endif()
  execute_process(
    COMMAND ${CXX} -std=c++20 -E -H -I${INCLUDE_DIR} -x c++ ${f}
    RESULT_VARIABLE rc ERROR_VARIABLE tree OUTPUT_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "core purity check: ${f} does not preprocess on its own:\n${tree}")
  endif()
  string(REGEX MATCH "[^\n]*(boost/asio|boost/beast|zookeeper/)[^\n]*" bad "${tree}")
  if(bad)
    message(FATAL_ERROR "core purity check: ${f} includes an I/O header: ${bad}")
  endif()
endforeach()
file(TOUCH ${STAMP})
