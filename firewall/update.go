package firewall

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// URLs says where Update fetches the lists. An empty field is skipped.
type URLs struct {
	V4  string // plain list, e.g. https://www.cloudflare.com/ips-v4
	V6  string // plain list, e.g. https://www.cloudflare.com/ips-v6
	API string // JSON API, e.g. https://api.cloudflare.com/client/v4/ips
}

// DefaultURLs returns Cloudflare's public endpoints.
func DefaultURLs() URLs {
	return URLs{
		V4:  "https://www.cloudflare.com/ips-v4",
		V6:  "https://www.cloudflare.com/ips-v6",
		API: "https://api.cloudflare.com/client/v4/ips",
	}
}

// maxBody bounds what Update reads from one answer; the real lists are < 1 KiB.
const maxBody = 256 << 10

// Update fetches the current lists: the JSON API first (when set), then the
// two plain lists. The first source that yields two valid lists wins and is
// returned with Source set to its URL, Fetched to the time of the fetch,
// and the Diff against old.
//
// On any failure — network error, non-200 status, an empty, HTML or otherwise
// invalid body — Update returns old unchanged, an empty Diff and an error that
// names every source tried and why it was refused. The caller keeps using
// old; it never receives a partial list.
func Update(ctx context.Context, client *http.Client, urls URLs, old Ranges) (Ranges, Diff, error) {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	var errs []error
	if urls.API != "" {
		r, err := fetchAPI(ctx, client, urls.API)
		if err == nil {
			return r, DiffRanges(old, r), nil
		}
		errs = append(errs, err)
	}
	if urls.V4 != "" && urls.V6 != "" {
		r, err := fetchPlain(ctx, client, urls)
		if err == nil {
			return r, DiffRanges(old, r), nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		errs = append(errs, errors.New("no URL configured"))
	}
	return old, Diff{}, fmt.Errorf("update Cloudflare ranges (keeping the %s list): %w", describe(old), errors.Join(errs...))
}

func describe(r Ranges) string {
	if r.Source == "" {
		return "current"
	}
	return r.Source
}

func fetchAPI(ctx context.Context, client *http.Client, url string) (Ranges, error) {
	body, _, err := get(ctx, client, url)
	if err != nil {
		return Ranges{}, err
	}
	r, err := ParseAPI(body)
	if err != nil {
		return Ranges{}, fmt.Errorf("GET %s: %w", url, err)
	}
	r.Source, r.Fetched = url, time.Now().UTC()
	return r, nil
}

func fetchPlain(ctx context.Context, client *http.Client, urls URLs) (Ranges, error) {
	b4, etag, err := get(ctx, client, urls.V4)
	if err != nil {
		return Ranges{}, err
	}
	v4, err := ParseList(b4, IPv4)
	if err != nil {
		return Ranges{}, fmt.Errorf("GET %s: %w", urls.V4, err)
	}
	b6, _, err := get(ctx, client, urls.V6)
	if err != nil {
		return Ranges{}, err
	}
	v6, err := ParseList(b6, IPv6)
	if err != nil {
		return Ranges{}, fmt.Errorf("GET %s: %w", urls.V6, err)
	}
	return Ranges{V4: v4, V6: v6, ETag: etag, Fetched: time.Now().UTC(), Source: urls.V4}, nil
}

// get returns the body of a 200 answer and its ETag header.
func get(ctx context.Context, client *http.Client, url string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: %w", url, err)
	}
	req.Header.Set("User-Agent", "origin-agent")
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("GET %s: status %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: read body: %w", url, err)
	}
	if len(body) > maxBody {
		return nil, "", fmt.Errorf("GET %s: body larger than %d bytes", url, maxBody)
	}
	if len(body) == 0 {
		return nil, "", fmt.Errorf("GET %s: empty body", url)
	}
	return body, resp.Header.Get("ETag"), nil
}
