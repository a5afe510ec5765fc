package synth

// The world the synthetic log happens in: countries with their regions and
// cities, and networks (autonomous systems) of four kinds. The ASNs are
// real ones of the named organisations, so that a log reads plausibly; the
// addresses are not theirs (see prefixes in Generate).

type netKind uint8

const (
	residential netKind = iota // home broadband: one address per household, stable for weeks
	mobile                     // carrier-grade NAT: a small pool of addresses shared by many users
	business                   // office networks
	hosting                    // clouds, VPN providers: where credential stuffing comes from
)

type network struct {
	asn     uint32
	country string
	kind    netKind
	base    uint32 // the network's /16, filled in by Generate
}

type city struct {
	region, name string
	weight       int
}

type country struct {
	code   string
	weight int // share of the users who live there
	cities []city
}

// countries: where users live (weight > 0) or travel to (all).
var countries = []country{
	{"JP", 55, []city{
		{"Tokyo", "Shinjuku", 6}, {"Tokyo", "Setagaya", 5}, {"Tokyo", "Minato", 3},
		{"Kanagawa", "Yokohama", 5}, {"Osaka", "Osaka", 6}, {"Aichi", "Nagoya", 4},
		{"Fukuoka", "Fukuoka", 3}, {"Hokkaido", "Sapporo", 3}, {"Kyoto", "Kyoto", 2},
		{"Hyogo", "Kobe", 2}, {"Miyagi", "Sendai", 2}, {"Hiroshima", "Hiroshima", 1},
	}},
	{"NO", 20, []city{
		{"Oslo", "Oslo", 6}, {"Viken", "Bærum", 3}, {"Vestland", "Bergen", 4},
		{"Trøndelag", "Trondheim", 3}, {"Rogaland", "Stavanger", 3}, {"Agder", "Kristiansand", 1},
		{"Troms og Finnmark", "Tromsø", 1},
	}},
	{"US", 12, []city{
		{"California", "Los Angeles", 4}, {"California", "San Jose", 2}, {"New York", "New York", 5},
		{"Texas", "Houston", 3}, {"Illinois", "Chicago", 3}, {"Washington", "Seattle", 2},
	}},
	{"DE", 6, []city{
		{"Berlin", "Berlin", 4}, {"Bavaria", "Munich", 3}, {"Hamburg", "Hamburg", 2},
		{"Hesse", "Frankfurt am Main", 2},
	}},
	{"GB", 5, []city{
		{"England", "London", 6}, {"England", "Manchester", 2}, {"Scotland", "Edinburgh", 1},
	}},
	{"KR", 2, []city{{"Seoul", "Seoul", 4}, {"Busan", "Busan", 1}}},
	{"FR", 0, []city{{"Île-de-France", "Paris", 4}, {"Provence-Alpes-Côte d'Azur", "Nice", 1}}},
	{"TH", 0, []city{{"Bangkok", "Bangkok", 3}, {"Phuket", "Phuket", 1}}},
	{"TW", 0, []city{{"Taipei City", "Taipei", 3}}},
	{"ES", 0, []city{{"Catalonia", "Barcelona", 2}, {"Madrid", "Madrid", 2}}},
	{"IT", 0, []city{{"Lazio", "Rome", 2}, {"Lombardy", "Milan", 2}}},
	{"NL", 0, []city{{"North Holland", "Amsterdam", 3}}},
	{"SG", 0, []city{{"Singapore", "Singapore", 1}}},
	// Where attacks come from besides hosting networks.
	{"CN", 0, []city{{"Guangdong", "Guangzhou", 2}, {"Beijing", "Beijing", 2}}},
	{"RU", 0, []city{{"Moscow", "Moscow", 3}, {"St.-Petersburg", "Saint Petersburg", 1}}},
	{"BR", 0, []city{{"São Paulo", "São Paulo", 3}}},
	{"VN", 0, []city{{"Hanoi", "Hanoi", 2}, {"Ho Chi Minh", "Ho Chi Minh City", 2}}},
	{"IN", 0, []city{{"Delhi", "New Delhi", 2}, {"Maharashtra", "Mumbai", 2}}},
	{"ID", 0, []city{{"Jakarta", "Jakarta", 2}}},
}

// networks lists every network. Countries without a residential network
// borrow nothing: travellers there use mobile or hotel (residential)
// networks of that country, so each country has at least one network.
var networks = []network{
	// Japan
	{4713, "JP", residential, 0},  // NTT OCN
	{2516, "JP", residential, 0},  // KDDI
	{17676, "JP", residential, 0}, // SoftBank
	{2527, "JP", residential, 0},  // So-net
	{9605, "JP", mobile, 0},       // NTT DOCOMO
	{2516, "JP", mobile, 0},       // KDDI (au)
	{17676, "JP", mobile, 0},      // SoftBank
	{2497, "JP", business, 0},     // IIJ
	// Norway
	{2119, "NO", residential, 0},  // Telenor
	{29695, "NO", residential, 0}, // Altibox
	{12929, "NO", residential, 0}, // Telia Norge
	{2119, "NO", mobile, 0},
	{12929, "NO", mobile, 0},
	{224, "NO", business, 0}, // Uninett
	// United States
	{7922, "US", residential, 0},  // Comcast
	{7018, "US", residential, 0},  // AT&T
	{701, "US", residential, 0},   // Verizon
	{22773, "US", residential, 0}, // Cox
	{21928, "US", mobile, 0},      // T-Mobile
	{6167, "US", mobile, 0},       // Verizon Wireless
	{3356, "US", business, 0},     // Lumen
	// Germany
	{3320, "DE", residential, 0}, // Deutsche Telekom
	{3209, "DE", residential, 0}, // Vodafone
	{6805, "DE", mobile, 0},      // Telefónica
	{3320, "DE", mobile, 0},
	// United Kingdom
	{2856, "GB", residential, 0}, // BT
	{5089, "GB", residential, 0}, // Virgin Media
	{5607, "GB", residential, 0}, // Sky
	{12576, "GB", mobile, 0},     // EE
	// Korea
	{4766, "KR", residential, 0}, // KT
	{9318, "KR", residential, 0}, // SK Broadband
	{4766, "KR", mobile, 0},
	// Travel destinations
	{3215, "FR", residential, 0}, // Orange
	{3215, "FR", mobile, 0},
	{23969, "TH", residential, 0}, // TOT
	{131445, "TH", mobile, 0},     // AIS
	{3462, "TW", residential, 0},  // HiNet
	{3352, "ES", residential, 0},  // Telefónica de España
	{3269, "IT", residential, 0},  // Telecom Italia
	{1136, "NL", residential, 0},  // KPN
	{9506, "SG", residential, 0},  // Singtel
	// Attack sources: residential networks abroad...
	{4134, "CN", residential, 0},  // Chinanet
	{12389, "RU", residential, 0}, // Rostelecom
	{28573, "BR", residential, 0}, // Claro
	{7552, "VN", residential, 0},  // Viettel
	{9829, "IN", residential, 0},  // BSNL
	{7713, "ID", residential, 0},  // Telkom Indonesia
	// ...and hosting and VPN networks, also in the users' countries.
	{16509, "US", hosting, 0}, // Amazon
	{16509, "JP", hosting, 0},
	{16509, "DE", hosting, 0},
	{14061, "US", hosting, 0}, // DigitalOcean
	{14061, "DE", hosting, 0},
	{14061, "GB", hosting, 0},
	{14061, "NL", hosting, 0},
	{24940, "DE", hosting, 0}, // Hetzner
	{16276, "FR", hosting, 0}, // OVH
	{9009, "GB", hosting, 0},  // M247 (VPN exits)
	{9009, "JP", hosting, 0},
	{9009, "NO", hosting, 0},
	{9009, "US", hosting, 0},
	{20473, "US", hosting, 0}, // Vultr
	{20473, "JP", hosting, 0},
	{60068, "NO", hosting, 0}, // Datacamp (VPN exits)
	{60068, "JP", hosting, 0},
	{60068, "KR", hosting, 0},
	{63949, "JP", hosting, 0}, // Akamai Connected Cloud (Linode)
	{63949, "SG", hosting, 0},
	{45102, "SG", hosting, 0}, // Alibaba
}
