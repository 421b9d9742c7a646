package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxAuthorizationLen caps the Authorization header value parseBasic
// decodes; longer values are rejected before any work is done.
const maxAuthorizationLen = 4096

// Reasons parseBasic rejects a header, for the log; they never contain the
// credentials.
var (
	errNotBasic        = errors.New("auth: authorization scheme is not Basic")
	errHeaderTooLong   = errors.New("auth: authorization header too long")
	errNotBase64       = errors.New("auth: basic credentials are not base64")
	errNoColon         = errors.New("auth: basic credentials lack the ':' separator")
	errEmptyUser       = errors.New("auth: basic credentials have an empty user-id")
	errNotUTF8         = errors.New("auth: basic credentials are not UTF-8")
	errControlChar     = errors.New("auth: basic credentials contain a control character")
	errMultipleHeaders = errors.New("auth: more than one authorization header")
)

// parseBasic extracts the user-id and password from an Authorization header
// value using the Basic scheme of RFC 7617: the scheme name is matched
// case-insensitively and followed by one or more spaces and the base64 of
// "user-id:password", split at the first colon, so the password may contain
// colons and the user-id may contain '@'. Padding may be omitted. Both parts
// must be UTF-8 (the charset the challenge advertises) without control
// characters (RFC 7617 §2), which also keeps them free of NUL.
func parseBasic(header string) (user, password string, err error) {
	if len(header) > maxAuthorizationLen {
		return "", "", errHeaderTooLong
	}
	header = strings.Trim(header, " \t")
	scheme, token, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", errNotBasic
	}
	token = strings.Trim(token, " \t")
	if token == "" {
		return "", "", errNotBase64
	}
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil && !strings.Contains(token, "=") {
		raw, err = base64.RawStdEncoding.DecodeString(token)
	}
	if err != nil {
		return "", "", errNotBase64
	}
	creds := string(raw)
	user, password, ok := strings.Cut(creds, ":")
	switch {
	case !ok:
		return "", "", errNoColon
	case user == "":
		return "", "", errEmptyUser
	case !utf8.ValidString(creds):
		return "", "", errNotUTF8
	case strings.ContainsFunc(creds, unicode.IsControl):
		return "", "", errControlChar
	}
	return user, password, nil
}
