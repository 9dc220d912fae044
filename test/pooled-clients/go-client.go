// A pooled net/http client (standard library only) for the pooled-clients tests: runs one scenario
// against a linger server and prints {"requests","ok","failures","refused","retries","resets","errors"} as JSON.
// Usage: go-client <idle|limit|close> <url> <workers> <arg> [idleConnTimeoutMs]
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

type tally struct {
	sync.Mutex
	Requests int      `json:"requests"`
	OK       int      `json:"ok"`
	Failures int      `json:"failures"`
	Refused  int      `json:"refused"`
	Retries  int      `json:"retries"`
	Resets   int      `json:"resets"`
	Errors   []string `json:"errors"`
}

var result = &tally{Errors: []string{}}

func newClient(workers int, idleConnTimeout time.Duration) *http.Client {
	// DefaultTransport keeps 2 idle connections per host; the scenarios pool one per worker.
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxIdleConns: workers, IdleConnTimeout: idleConnTimeout}}
}

// get counts one request; GotConn fires once per attempt, so attempts beyond the first are the
// Transport's own retries on a reused connection the server had closed.
func get(client *http.Client, url string) {
	attempts := 0
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { attempts++ }}
	req, _ := http.NewRequest("GET", url, nil)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	res, err := client.Do(req)
	ok := false
	message := ""
	if err == nil {
		_, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		ok = err == nil && res.StatusCode == 200
		if err == nil && !ok {
			message = fmt.Sprintf("status %d", res.StatusCode)
		}
	}
	if err != nil {
		message = err.Error()
	}
	result.Lock()
	defer result.Unlock()
	result.Requests++
	if attempts > 1 {
		result.Retries += attempts - 1
	}
	if ok {
		result.OK++
		return
	}
	if strings.Contains(message, "connection refused") {
		// A new connection after the server stopped listening: the request never left the client.
		result.Refused++
	} else {
		result.Failures++
	}
	if strings.Contains(message, "reset") {
		result.Resets++
	}
	if len(result.Errors) < 5 {
		result.Errors = append(result.Errors, message)
	}
}

func main() {
	mode, base := os.Args[1], os.Args[2]
	workers, _ := strconv.Atoi(os.Args[3])
	arg := os.Args[4]
	idleConnTimeout := 90 * time.Second // DefaultTransport's
	if len(os.Args) > 5 {
		ms, _ := strconv.Atoi(os.Args[5])
		idleConnTimeout = time.Duration(ms) * time.Millisecond
	}
	var wg sync.WaitGroup
	switch mode {
	case "idle":
		// One pool per worker, so each connection's idle time is exactly the gap before its next request.
		var gaps []int
		for _, g := range strings.Split(arg, ",") {
			ms, _ := strconv.Atoi(g)
			gaps = append(gaps, ms)
		}
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				client := newClient(1, idleConnTimeout)
				get(client, base+"/")
				for i := range gaps {
					time.Sleep(time.Duration(gaps[(i+w)%len(gaps)]) * time.Millisecond)
					get(client, base+"/")
				}
				client.CloseIdleConnections()
			}(w)
		}
	case "limit":
		count, _ := strconv.Atoi(arg)
		client := newClient(workers, idleConnTimeout)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < count; i++ {
					get(client, base+"/")
				}
			}()
		}
	case "close":
		client := newClient(workers, idleConnTimeout)
		warm(client, base, workers, &wg)
		wg.Wait()
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				if w%2 == 0 {
					get(client, base+"/slow?ms="+arg)
				} else {
					time.Sleep(200 * time.Millisecond)
					get(client, base+"/")
				}
			}(w)
		}
	}
	wg.Wait()
	out, _ := json.Marshal(result)
	fmt.Println(string(out))
}

// warm opens one pooled connection per worker: concurrent requests the server holds 100 ms.
func warm(client *http.Client, base string, workers int, wg *sync.WaitGroup) {
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			get(client, base+"/warm")
		}()
	}
}
