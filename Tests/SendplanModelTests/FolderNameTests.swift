import SendplanModel
import Testing

@Suite struct FolderNameTests {
  /// Customer ids and the readable prefix of their folder names.
  @Test(arguments: [
    ("acme", "acme"), ("ACME", "acme"), ("Globex_2", "globex_2"), ("a-b", "a-b"), ("-rf", "_rf"), ("../x", "___x"),
    (".", "_"), ("..", "__"), ("a/b", "a_b"), ("x\\y", "x_y"), (" ", "_"), ("", "tenant"), ("é", "__"),
    ("\u{202E}evil", "___evil"), (String(repeating: "a", count: 100), String(repeating: "a", count: 40)),
    (String(repeating: "é", count: 30), String(repeating: "_", count: 40)),
  ])
  func prefixIsReadableAndSafe(id: String, prefix: String) {
    let name = FolderName.of(ID(id))
    let dash = name.lastIndex(of: "-")
    #expect(dash.map { String(name[..<$0]) } == prefix, "\(name)")
    let hash = dash.map { String(name[name.index(after: $0)...]) } ?? ""
    #expect(hash.count == 16 && hash.allSatisfy { $0.isHexDigit && !$0.isUppercase }, "\(name)")
    #expect(!name.contains("/") && !name.hasPrefix(".") && !name.hasPrefix("-"))
    #expect(name == name.lowercased())
    #expect(name.utf8.count <= 40 + 1 + 16)
    #expect(FolderName.of(ID(id)) == name, "the name depends on nothing but the id")
  }

  /// The sample bundle's folders, as run.json and the golden files name them.
  @Test(arguments: [("acme", "acme-822b33ad87c148a0"), ("globex", "globex-5bc1a08d28e40fe7")])
  func sampleFoldersAreTheDocumentedOnes(id: String, folder: String) {
    #expect(FolderName.of(ID(id)) == folder)
  }

  @Test func idsThatFoldAlikeStillGetDifferentFolders() {
    let ids = ["acme", "ACME", "Acme", "acme ", "acme\u{301}", "acme\u{0}", ".", "..", "_", "-", ""]
    let names = ids.map { FolderName.of(ID($0)) }
    #expect(Set(names).count == ids.count, "\(names)")
  }
}
