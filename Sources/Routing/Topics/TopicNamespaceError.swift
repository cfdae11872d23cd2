/// Why the `topic-namespaces` setting could not be read.
package struct TopicNamespaceError: Error, CustomStringConvertible {
    package let description: String

    init(_ description: String) {
        self.description = description
    }
}
