import Testing

@testable import Runner

struct LayerDirectoriesTests {
    @Test func repeatedLayerKeepsTopmost() {
        let topFirst = ["/l/c", "/l/b", "/l/a", "/l/b", "/l/d", "/l/a"]
        #expect(LayerDirectories.topmostOccurrences(topFirst) == ["/l/c", "/l/b", "/l/a", "/l/d"])
    }
}
