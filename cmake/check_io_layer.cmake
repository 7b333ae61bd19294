# Fails when a src/io file includes a header of src/core: the I/O layer sits
# below the core's users (the scheduler and the executor) and must not know it.
string(REPLACE "|" ";" FILES "${FILES}")
foreach(f IN LISTS FILES)
  if(f STREQUAL "")
    continue()
  endif()
  file(STRINGS ${f} bad REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]core/")
  if(bad)
    message(FATAL_ERROR "io layer check: ${f} includes the core: ${bad}")
  endif()
endforeach()
file(TOUCH ${STAMP})
