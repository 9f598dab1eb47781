package studio

// The application's identity, defined once: the binary's version command,
// Fyne's metadata, the API's /v1/metadata and the Linux package all read
// these (FyneApp.toml and the Makefile's package target repeat them for
// fyne's packager; app's TestMetadataMatchesFyneAppToml keeps them equal).
const (
	AppID   = "dev.motionstudio.studio"
	AppName = "Motion Studio"
)

// Version is the release version; a release build may set it with
// -ldflags "-X github.com/motionstudio/studio.Version=...".
var Version = "0.1.0"
