# Writes the version source (cmake/version_info.cpp.in) with the project
# version and the git commit of SOURCE_DIR, run on every build. The output is
# replaced only when its content changes, so an unchanged HEAD rebuilds
# nothing (Ninja re-checks the byproduct's time stamp).
#   cmake -DSOURCE_DIR=... -DVERSION=x.y.z -DTEMPLATE=... -DOUTPUT=... -P version_info.cmake
# ETCDMESOS_GIT_COMMIT in the environment overrides the lookup (a build from
# a source tarball whose commit is known).
set(ETCDMESOS_VERSION "${VERSION}")
set(ETCDMESOS_GIT_COMMIT "unknown")
if(DEFINED ENV{ETCDMESOS_GIT_COMMIT} AND "$ENV{ETCDMESOS_GIT_COMMIT}" MATCHES "^[0-9a-f]+$")
  set(ETCDMESOS_GIT_COMMIT "$ENV{ETCDMESOS_GIT_COMMIT}")
elseif(EXISTS "${SOURCE_DIR}/.git")  # a directory, or a file in a git worktree
  find_program(GIT_PROGRAM git)
  if(GIT_PROGRAM)
    # safe.directory: a checkout owned by another user (a CI clone built as
    # root) is still read rather than refused.
    execute_process(
      COMMAND "${GIT_PROGRAM}" -c safe.directory=* -C "${SOURCE_DIR}" rev-parse --short=7 HEAD
      OUTPUT_VARIABLE commit
      RESULT_VARIABLE status
      OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(status EQUAL 0 AND commit MATCHES "^[0-9a-f]+$")
      set(ETCDMESOS_GIT_COMMIT "${commit}")
    endif()
  endif()
endif()
configure_file("${TEMPLATE}" "${OUTPUT}.new" @ONLY)
file(COPY_FILE "${OUTPUT}.new" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.new")
