import SwitchboardProtocol

/// Last known positions, in memory.
actor LocationStore {
    private var positions: [String: Switchboard_Location_V1_UserLocation] = [:]

    func update(_ user: String, latitude: Double, longitude: Double, at time: Int64) {
        var location = Switchboard_Location_V1_UserLocation()
        location.user = user
        location.latitude = latitude
        location.longitude = longitude
        location.updatedAtMs = time
        positions[user] = location
    }

    func location(of user: String) -> Switchboard_Location_V1_UserLocation? { positions[user] }

    /// Everyone within `radius` meters of the point, nearest first.
    func near(latitude: Double, longitude: Double, radius: Double, limit: Int) -> [Switchboard_Location_V1_UserLocation] {
        positions.values
            .map { location -> Switchboard_Location_V1_UserLocation in
                var found = location
                found.distanceMeters = GreatCircle.distance(latitude, longitude, location.latitude, location.longitude)
                return found
            }
            .filter { $0.distanceMeters <= radius }
            .sorted { ($0.distanceMeters, $0.user) < ($1.distanceMeters, $1.user) }
            .prefix(limit)
            .map { $0 }
    }
}
