import SendplanCLI

#if canImport(Glibc)
  import Glibc
#endif

exit(SendplanCommand.execute(Array(CommandLine.arguments.dropFirst())))
