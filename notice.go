// Package studio holds what the whole project ships as text: the NOTICE
// with the credits for data and derived assets, which the HTTP API serves
// at /v1/license.
package studio

import _ "embed"

// Notice is the project's NOTICE file.
//
//go:embed NOTICE
var Notice string
