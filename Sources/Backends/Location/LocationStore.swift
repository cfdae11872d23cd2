#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SwitchboardProtocol

/// Last known positions, in memory, indexed by a grid of `cellDegrees` cells so that a
/// nearby query reads only the cells its circle touches, never every position.
actor LocationStore {
    /// A grid cell: half a degree (~55 km of latitude), wider than the largest radius a
    /// query may ask for, so a query reads a few cells away from the poles.
    private struct Cell: Hashable {
        let row: Int
        let column: Int
    }

    static let cellDegrees = 0.5
    private static let rows = Int(180 / cellDegrees)
    private static let columns = Int(360 / cellDegrees)

    private var positions: [String: Switchboard_Location_V1_UserLocation] = [:]
    private var cells: [Cell: Set<String>] = [:]

    func update(_ user: String, latitude: Double, longitude: Double, at time: Int64) {
        if let old = positions[user] { remove(user, from: Self.cell(old.latitude, old.longitude)) }
        var location = Switchboard_Location_V1_UserLocation()
        location.user = user
        location.latitude = latitude
        location.longitude = longitude
        location.updatedAtMs = time
        positions[user] = location
        cells[Self.cell(latitude, longitude), default: []].insert(user)
    }

    func location(of user: String) -> Switchboard_Location_V1_UserLocation? { positions[user] }

    /// Everyone within `radius` meters of the point, nearest first.
    func near(latitude: Double, longitude: Double, radius: Double, limit: Int) -> [Switchboard_Location_V1_UserLocation] {
        Self.cells(around: latitude, longitude, radius: radius)
            .flatMap { cells[$0] ?? [] }
            .compactMap { user -> Switchboard_Location_V1_UserLocation? in
                guard var found = positions[user] else { return nil }
                found.distanceMeters = GreatCircle.distance(latitude, longitude, found.latitude, found.longitude)
                return found.distanceMeters <= radius ? found : nil
            }
            .sorted { ($0.distanceMeters, $0.user) < ($1.distanceMeters, $1.user) }
            .prefix(limit)
            .map { $0 }
    }

    private func remove(_ user: String, from cell: Cell) {
        cells[cell]?.remove(user)
        if cells[cell]?.isEmpty == true { cells[cell] = nil }
    }

    private static func cell(_ latitude: Double, _ longitude: Double) -> Cell {
        Cell(
            row: min(rows - 1, max(0, Int(((latitude + 90) / cellDegrees).rounded(.down)))),
            column: min(columns - 1, max(0, Int(((longitude + 180) / cellDegrees).rounded(.down))))
        )
    }

    /// Every cell within `radius` of the point: a latitude band, and the longitudes the
    /// circle spans at the band's widest parallel (all of them near a pole, or across it).
    private static func cells(around latitude: Double, _ longitude: Double, radius: Double) -> [Cell] {
        let degreesOfLatitude = radius / GreatCircle.earthRadiusMeters * 180 / .pi
        let south = max(-90, latitude - degreesOfLatitude)
        let north = min(90, latitude + degreesOfLatitude)
        let rowRange = cell(south, 0).row...cell(north, 0).row
        let widest = max(abs(south), abs(north))
        let columnRange: [Int]
        if north >= 90 || south <= -90 || widest >= 89 {
            columnRange = Array(0..<columns)
        } else {
            let degreesOfLongitude = degreesOfLatitude / cos(widest * .pi / 180)
            if degreesOfLongitude >= 180 {
                columnRange = Array(0..<columns)
            } else {
                let first = Int(((longitude - degreesOfLongitude + 180) / cellDegrees).rounded(.down))
                let last = Int(((longitude + degreesOfLongitude + 180) / cellDegrees).rounded(.down))
                // Across the antimeridian the columns wrap around.
                columnRange = (first...last).map { (($0 % columns) + columns) % columns }
            }
        }
        let spanned = Set(columnRange)  // wrapped ranges may repeat a column
        return rowRange.flatMap { row in spanned.map { Cell(row: row, column: $0) } }
    }
}
