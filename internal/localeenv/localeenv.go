// Package localeenv keeps Fyne from logging "Error parsing user locale C"
// on every start under LANG=C.UTF-8 (the default of containers and CI):
// go-locale treats "C" and "POSIX" as no locale but turns "C.UTF-8" into the
// tag "C", which does not parse. Fyne reads the locale in a package init,
// before main runs, so this package fixes the environment in its own init.
//
// The Go spec orders package initialisation: among packages whose imports
// are initialised, the one with the lexically smallest import path goes
// first. This path ("github.com/motionstudio/…") sorts before go-i18n
// ("github.com/nicksnyder/…"), which Fyne's lang package needs first, and it
// imports only os and strings, so its init always runs before Fyne's. The
// binary's test under LANG=C.UTF-8 guards this.
package localeenv

import (
	"os"
	"strings"
)

func init() {
	if os.Getenv("LANGUAGE") != "" {
		return
	}
	loc := ""
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if loc = os.Getenv(k); loc != "" {
			break
		}
	}
	// LANGUAGE only chooses message translations; "en" is what a C locale means.
	if base, _, _ := strings.Cut(loc, "."); base == "C" && loc != "C" {
		os.Setenv("LANGUAGE", "en")
	}
}
