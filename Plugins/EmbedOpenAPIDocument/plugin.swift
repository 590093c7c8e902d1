import PackagePlugin

/// Compiles the target's `openapi.json` into it as a Swift raw string literal (`OpenAPIDocument.text`),
/// made by `embed-openapi-document` at build time: the document stays a JSON file, the executable
/// needs no file beside it, and the compiler reads one string literal (SwiftPM's `.embedInCode` made
/// an array literal of its bytes, which cost minutes; docs/decisions/0021-openapi-document.md).
@main struct EmbedOpenAPIDocument: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let document = target.directoryURL.appending(path: "openapi.json")
        let output = context.pluginWorkDirectoryURL.appending(path: "OpenAPIDocument+Text.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(target.name)'s openapi.json",
                executable: try context.tool(named: "embed-openapi-document").url,
                arguments: [document.path(percentEncoded: false), output.path(percentEncoded: false)],
                inputFiles: [document], outputFiles: [output])
        ]
    }
}
