package model

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a Gatekeeper release.
type Version struct{ Major, Minor, Patch int }

func (v Version) String() string { return fmt.Sprintf("v%d.%d.%d", v.Major, v.Minor, v.Patch) }

// AtLeast compares major.minor.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

// ParseImageVersion reads vX.Y[.Z] from an image's tag; nil when the tag is
// not a version (latest, a digest only, dev builds).
func ParseImageVersion(image string) *Version {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndex(image, "/"); i >= 0 {
		image = image[i+1:]
	}
	_, tag, ok := strings.Cut(image, ":")
	if !ok {
		return nil
	}
	return ParseVersion(tag)
}

// ParseVersion reads vX.Y[.Z] (a pre-release or build suffix is ignored);
// nil when tag is not a version.
func ParseVersion(tag string) *Version {
	tag = strings.TrimPrefix(tag, "v")
	if i := strings.IndexAny(tag, "-+"); i >= 0 {
		tag = tag[:i]
	}
	parts := strings.Split(tag, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return nil
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return nil
		}
		n[i] = v
	}
	return &Version{n[0], n[1], n[2]}
}
