package busytime

import (
	"strings"

	"github.com/calbolt/calbolt/store"
)

// Address is the user's calendar user address (RFC 6638 §2.4.1), a mailto:
// URI: the configured e-mail address, else the login name when it is one,
// else the login name at the host clients use (without its port).
func Address(u store.User, host string) string {
	switch {
	case u.Email != "":
		return "mailto:" + u.Email
	case strings.Contains(u.Name, "@"):
		return "mailto:" + u.Name
	}
	return "mailto:" + u.Name + "@" + hostName(host)
}

// Addresses are all the addresses that name u: Address, and the
// name@host form when u has an e-mail address too.
func Addresses(u store.User, host string) []string {
	a := []string{Address(u, host)}
	if u.Email != "" && !strings.Contains(u.Name, "@") {
		a = append(a, "mailto:"+u.Name+"@"+hostName(host))
	}
	return a
}

func hostName(host string) string {
	if i := strings.LastIndexByte(host, ':'); i > 0 && !strings.HasSuffix(host, "]") {
		host = host[:i]
	}
	host = strings.Trim(host, "[]")
	if host == "" {
		host = "localhost"
	}
	return strings.ToLower(host)
}

// Resolve finds the user a calendar user address or login name stands for:
// "mailto:" addresses match a user's e-mail address, or name@host for the
// host clients use; a bare string matches a login name or an e-mail
// address. Comparisons ignore case (mail addresses and login names are not
// meant to differ only by case).
func (s *Service) Resolve(addr, host string) (string, bool) {
	addr = strings.TrimSpace(addr)
	if len(addr) > 7 && strings.EqualFold(addr[:7], "mailto:") {
		addr = addr[7:]
	}
	if addr == "" {
		return "", false
	}
	users, err := s.db.Users()
	if err != nil {
		return "", false
	}
	for _, u := range users {
		if strings.EqualFold(u.Email, addr) || strings.EqualFold(u.Name, addr) {
			return u.Name, true
		}
	}
	if local, domain, ok := strings.Cut(addr, "@"); ok && strings.EqualFold(domain, hostName(host)) {
		for _, u := range users {
			if strings.EqualFold(u.Name, local) {
				return u.Name, true
			}
		}
	}
	return "", false
}
