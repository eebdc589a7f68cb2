package installer

import _ "embed"

// certbot's shipped files, byte for byte (certbot 2.1 = certbot master for these):
// certbot_nginx/_internal/tls_configs/options-ssl-nginx.conf,
// certbot_apache/_internal/tls_configs/current-options-ssl-apache.conf,
// certbot/ssl-dhparams.pem (RFC 7919 ffdhe2048).

//go:embed assets/options-ssl-nginx.conf
var OptionsSSLNginx []byte

//go:embed assets/options-ssl-apache.conf
var OptionsSSLApache []byte

//go:embed assets/ssl-dhparams.pem
var SSLDHParams []byte

// File names in the config dir (certbot's MOD_SSL_CONF_DEST, SSL_DHPARAMS_DEST)
// and the digest files beside them.
const (
	OptionsSSLNginxName        = "options-ssl-nginx.conf"
	OptionsSSLNginxDigestName  = ".updated-options-ssl-nginx-conf-digest.txt"
	OptionsSSLApacheName       = "options-ssl-apache.conf"
	OptionsSSLApacheDigestName = ".updated-options-ssl-apache-conf-digest.txt"
	SSLDHParamsName            = "ssl-dhparams.pem"
	SSLDHParamsDigestName      = ".updated-ssl-dhparams-pem-digest.txt"
)

// Hashes of every released version, from certbot's constants.py: a file equal to
// one of them may be replaced by the current version.
var (
	OptionsSSLNginxHashes = []string{
		"0f81093a1465e3d4eaa8b0c14e77b2a2e93568b0fc1351c2b87893a95f0de87c",
		"9a7b32c49001fed4cff8ad24353329472a50e86ade1ef9b2b9e43566a619612e",
		"a6d9f1c7d6b36749b52ba061fff1421f9a0a3d2cfdafbd63c05d06f65b990937",
		"7f95624dd95cf5afc708b9f967ee83a24b8025dc7c8d9df2b556bbc64256b3ff",
		"394732f2bbe3e5e637c3fb5c6e980a1f1b90b01e2e8d6b7cff41dde16e2a756d",
		"4b16fec2bcbcd8a2f3296d886f17f9953ffdcc0af54582452ca1e52f5f776f16",
		"c052ffff0ad683f43bffe105f7c606b339536163490930e2632a335c8d191cc4",
		"02329eb19930af73c54b3632b3165d84571383b8c8c73361df940cb3894dd426",
		"63e2bddebb174a05c9d8a7cf2adf72f7af04349ba59a1a925fe447f73b2f1abf",
		"2901debc7ecbc10917edd9084c05464c9c5930b463677571eaf8c94bffd11ae2",
		"30baca73ed9a5b0e9a69ea40e30482241d8b1a7343aa79b49dc5d7db0bf53b6c",
		"02329eb19930af73c54b3632b3165d84571383b8c8c73361df940cb3894dd426",
		"108c4555058a087496a3893aea5d9e1cee0f20a3085d44a52dc1a66522299ac3",
		"d5e021706ecdccc7090111b0ae9a29ef61523e927f020e410caf0a1fd7063981",
		"ef11e3fb17213e74d3e1816cde0ec37b8b95b4167cf21e7b8ff1eaa9c6f918ee",
		"af85f6193808a44789a1d293e6cffa249cad9a21135940800958b8e3c72dbc69",
		"a2a612fd21b02abaa32d9d11ac63d987d6e3054dbfa356de5800eea0d7ce17f3",
		"2d9648302e3588a172c318e46bff88ade46fc7a16d6afc85322776a04800d473",
		"5e21cc66989f26ec46116d979421e538131cf8ab33ffff3f682fbfe491b0ace8",
		"f5615544105c4eee44f02a604e3e9ae55b3d5bad247160bb18731a0ac531af02",
		"05a799c4db12f8e15e68219c98056824cbd5ae7b05863225318ae112f343880b",
		"dc81acfd9670f137d5abbccfe3438d9306d4b6a906439b0fbf6a6756272e7cc7",
	}
	OptionsSSLApacheHashes = []string{
		"2086bca02db48daf93468332543c60ac6acdb6f0b58c7bfdf578a5d47092f82a",
		"4844d36c9a0f587172d9fa10f4f1c9518e3bcfa1947379f155e16a70a728c21a",
		"5a922826719981c0a234b1fbcd495f3213e49d2519e845ea0748ba513044b65b",
		"4066b90268c03c9ba0201068eaa39abbc02acf9558bb45a788b630eb85dadf27",
		"f175e2e7c673bd88d0aff8220735f385f916142c44aa83b09f1df88dd4767a88",
		"cfdd7c18d2025836ea3307399f509cfb1ebf2612c87dd600a65da2a8e2f2797b",
		"80720bd171ccdc2e6b917ded340defae66919e4624962396b992b7218a561791",
		"c0c022ea6b8a51ecc8f1003d0a04af6c3f2bc1c3ce506b3c2dfc1f11ef931082",
		"717b0a89f5e4c39b09a42813ac6e747cfbdeb93439499e73f4f70a1fe1473f20",
		"0fcdc81280cd179a07ec4d29d3595068b9326b455c488de4b09f585d5dafc137",
		"86cc09ad5415cd6d5f09a947fe2501a9344328b1e8a8b458107ea903e80baa6c",
		"06675349e457eae856120cdebb564efe546f0b87399f2264baeb41e442c724c7",
		"5cc003edd93fb9cd03d40c7686495f8f058f485f75b5e764b789245a386e6daf",
		"007cd497a56a3bb8b6a2c1aeb4997789e7e38992f74e44cc5d13a625a738ac73",
		"34783b9e2210f5c4a23bced2dfd7ec289834716673354ed7c7abf69fe30192a3",
		"61466bc2f98a623c02be8a5ee916ead1655b0ce883bdc936692076ea499ff5ce",
		"3fd812e3e87fe5c645d3682a511b2a06c8286f19594f28e280f17cd6af1301b5",
	}
	SSLDHParamsHashes = []string{
		"9ba6429597aeed2d8617a7705b56e96d044f64b07971659382e426675105654b",
	}
)
