# Sourced by ./loraid, .ci/run and bench/run: sets JAVA_HOME to a JDK >= 25 and puts it first on PATH.
# Looks at $JAVA_HOME first, then the usual install folders. Fails with a clear message if none is found.
loraid_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n1
}
loraid_find_jdk() {
  local c major
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -n "$c" ] && [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    major=$(loraid_java_major "$c")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      echo "$c"
      return 0
    fi
  done
  return 1
}
if ! LORAID_JDK=$(loraid_find_jdk); then
  echo "loraid: needs a JDK 25 or newer; set JAVA_HOME to one (looked in \$JAVA_HOME and /usr/lib/jvm, /usr/java, /opt)" >&2
  exit 1
fi
export JAVA_HOME="$LORAID_JDK"
export PATH="$JAVA_HOME/bin:$PATH"
