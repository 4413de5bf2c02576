import SendplanDiagnostics

/// Writes whole files into one folder of a run's output, each synced like the run's others: at once,
/// on a background ``Syncer``, or not at all.
package struct FolderWriter: Sendable {
  /// The folder the files go in.
  package let dir: String
  let sync: Bool
  let syncer: Syncer?

  package init(dir: String, sync: Bool, syncer: Syncer?) {
    self.dir = dir
    self.sync = sync
    self.syncer = syncer
  }

  /// Writes `name` in the folder and returns its path.
  @discardableResult
  package func write(_ name: String, _ bytes: [UInt8]) throws(SendplanError) -> String {
    let path = dir + "/" + name
    try OutputFile.write(bytes, to: path, sync: sync, syncer: syncer)
    return path
  }

  /// Opens `name` for streaming writes; close it with ``close(_:)``.
  package func open(_ name: String) throws(SendplanError) -> OutputFile {
    try OutputFile(path: dir + "/" + name)
  }

  /// Closes a file from ``open(_:)``, syncing it as the folder's other files are.
  package func close(_ file: OutputFile) throws(SendplanError) {
    try file.close(sync: sync, syncer: syncer)
  }
}
