import Logging
import SendplanCLI

#if canImport(Glibc)
  import Glibc
#endif

// The process-wide default; `run` builds its own logger from --log-format, --log-level and --log-redaction.
LoggingSystem.bootstrap(SendplanLogging.defaultHandler)
exit(SendplanCommand.execute(Array(CommandLine.arguments.dropFirst())))
