@testable import Backends
import SwitchboardProtocol
import Testing

/// The reference Location backend: nearby reads only the grid cells its circle touches,
/// and finds the same users a scan of everyone would — across the antimeridian and near
/// the poles too; callers see their own position exactly and others' coarsely.
@Suite("Location backend store")
struct LocationStoreTests {
    @Test("nearby finds what a full scan finds: across cell edges, the antimeridian and a pole; a moved user is found only where they are now")
    func gridMatchesScan() async {
        let store = LocationStore()
        var everyone: [(String, Double, Double)] = []
        // A ring of users around several centres, some on cell edges.
        let centres = [(52.5, 13.4), (0.0, 179.99), (0.0, -179.99), (89.95, 0.0), (-89.95, 120.0), (10.0, 10.0)]
        var n = 0
        for (latitude, longitude) in centres {
            for step in 0..<24 {
                let offset = Double(step) * 0.004
                let lat = max(-90, min(90, latitude + (step.isMultiple(of: 2) ? offset : -offset)))
                var lon = longitude + (step.isMultiple(of: 3) ? offset : -offset)
                if lon > 180 { lon -= 360 }
                if lon < -180 { lon += 360 }
                everyone.append(("u\(n)", lat, lon))
                await store.update("u\(n)", latitude: lat, longitude: lon, at: 0)
                n += 1
            }
        }
        for (latitude, longitude) in centres + [(0.0, 180.0), (89.99, 179.0), (10.25, 10.0)] {
            for radius in [500.0, 5_000, 50_000] {
                let found = await store.near(latitude: latitude, longitude: longitude, radius: radius, limit: 10_000).map(\.user)
                let scanned = everyone
                    .map { ($0.0, GreatCircle.distance(latitude, longitude, $0.1, $0.2)) }
                    .filter { $0.1 <= radius }
                    .sorted { ($0.1, $0.0) < ($1.1, $1.0) }
                    .map(\.0)
                #expect(found == scanned, "around \(latitude), \(longitude) within \(radius) m")
            }
        }
        await store.update("u0", latitude: -33.86, longitude: 151.2, at: 1)
        #expect(await store.near(latitude: 52.5, longitude: 13.4, radius: 50_000, limit: 1000).map(\.user).contains("u0") == false)
        #expect(await store.near(latitude: -33.86, longitude: 151.2, radius: 10, limit: 10).map(\.user) == ["u0"])
    }

    @Test("a caller sees their own position exactly, and another user's to 0.01° with the distance rounded up to 100 m")
    func visibility() {
        var location = Switchboard_Location_V1_UserLocation()
        location.user = "alice"
        location.latitude = 52.520008
        location.longitude = 13.404954
        location.distanceMeters = 1234.5
        #expect(LocationBackend.visible(location, to: "alice") == location)
        let seen = LocationBackend.visible(location, to: "mallory")
        #expect(seen.latitude == 52.52 && seen.longitude == 13.40)
        #expect(seen.distanceMeters == 1300)
        #expect(seen.user == "alice")
    }
}
