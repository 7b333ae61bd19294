# The Debian package etcd-mesos (scripts/package; docs/administration.md,
# "Packages"): the three programs, their man pages (help2man, from --help and
# --version), the scheduler's systemd unit, its flags in /etc/default as a
# conffile, and the deployment examples.
#
# `install` does not build `all` first (CMAKE_SKIP_INSTALL_ALL_DEPENDENCY):
# scripts/package builds just the three programs, and the package test
# packages the tree scripts/test already built, without a build of its own.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(ETCDMESOS_PROGRAMS etcd-mesos-scheduler etcd-mesos-executor etcd-mesos-proxy)
install(TARGETS ${ETCDMESOS_PROGRAMS} RUNTIME DESTINATION bin)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/etcd-mesos-scheduler.service
        DESTINATION /lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/etcd-mesos.default DESTINATION /etc/default
        RENAME etcd-mesos)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/quickstart.md
              ${PROJECT_SOURCE_DIR}/docs/administration.md
              ${PROJECT_SOURCE_DIR}/docs/service-discovery.md
              ${PROJECT_SOURCE_DIR}/docs/incident-response.md
        DESTINATION share/doc/etcd-mesos)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/marathon.json ${PROJECT_SOURCE_DIR}/deploy/mesos-execute.sh
        DESTINATION share/doc/etcd-mesos/examples)

# Man pages from each program's --help and --version, made while installing
# (so also from a tree that was built without them).
find_program(HELP2MAN help2man)
find_program(GZIP gzip)
foreach(program IN LISTS ETCDMESOS_PROGRAMS)
  if(NOT HELP2MAN OR NOT GZIP)
    install(CODE "message(FATAL_ERROR \"help2man and gzip make the man pages: run scripts/install-deps, then configure again\")")
    break()
  endif()
  install(CODE "
    set(dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/share/man/man1\")
    file(MAKE_DIRECTORY \${dir})
    execute_process(
      COMMAND \"${HELP2MAN}\" --no-info --section=1 --source=etcd-mesos
              \"--name=part of etcd-mesos, an Apache Mesos framework that runs etcd\"
              --output=\${dir}/${program}.1 \"$<TARGET_FILE:${program}>\"
      RESULT_VARIABLE status)
    if(NOT status EQUAL 0)
      message(FATAL_ERROR \"help2man ${program} failed: \${status}\")
    endif()
    execute_process(COMMAND \"${GZIP}\" -9nf \${dir}/${program}.1 RESULT_VARIABLE status)
    if(NOT status EQUAL 0)
      message(FATAL_ERROR \"gzip of the man page of ${program} failed: \${status}\")
    endif()
  ")
endforeach()

set(CPACK_GENERATOR DEB)
# Stage under DESTDIR: the unit and the conffile have absolute destinations
# (/lib/systemd/system, /etc/default), which must land in the package, never
# in this machine's /etc.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)  # the prefix in DESTDIR mode: /usr/bin, /usr/share
set(CPACK_PACKAGE_NAME etcd-mesos)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "etcd-mesos")
set(CPACK_PACKAGE_CONTACT "etcd-mesos maintainers <etcd-mesos@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Apache Mesos framework that runs, health-checks and repairs an etcd cluster")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "etcd-mesos-scheduler registers with a Mesos master, runs one etcd 3.4 member per agent,
health-checks the cluster and repairs it: it replaces lost members and, when a
majority is lost, reseeds from the most up-to-date survivor. It serves the
executor, etcd and etcdctl to the agents itself. etcd-mesos-executor runs a
member on an agent; etcd-mesos-proxy serves a cluster's members to clients on
one local address. The scheduler's systemd unit reads its flags from
/etc/default/etcd-mesos.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # etcd-mesos_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The etcd and etcdctl the scheduler serves to the agents (its -etcd-bin and
# -etcdctl-bin default to /usr/bin/etcd and /usr/bin/etcdctl) and the etcd the
# proxy runs; the shared libraries come from dpkg-shlibdeps.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "etcd-server, etcd-client")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/conffiles ${PROJECT_SOURCE_DIR}/packaging/postinst
    ${PROJECT_SOURCE_DIR}/packaging/prerm ${PROJECT_SOURCE_DIR}/packaging/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
