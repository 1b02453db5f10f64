// Command gocql-bench is the end-to-end client for gocql (apache/cassandra-gocql-driver v2):
// it prepares the benchmark select and insert (gocql prepares a query with arguments on first
// use and caches it), keeps -concurrency requests in flight for a warm-up and a measured window,
// and prints one JSON record in the format of cql4-bench's Record.
//
// With -rate R it runs the open loop of cql4-bench's drive_open instead: request k is due k/R
// seconds after the start (the scheduling goroutine sleeps in nanosleep until then) and gets
// its own goroutine when due, its latency counted from when it
// was due; at most -concurrency are outstanding (a request due beyond that is dropped and
// counted), and those still unanswered a second after the schedule ended are late.
//
// With -session (cargo xtask bench --session) it is the session benchmark's gocql: contact
// point -host, discovery on and the driver's default pool and host selection policy, TLS
// against -ca (certificate and -server-name checked) and a PasswordAuthenticator login
// (-user, and the password in CQL4_BENCH_PASSWORD so it is not on the command line).
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

const selectID = 42

type record struct {
	Driver        string  `json:"driver"`
	DriverVersion string  `json:"driver_version"`
	Workload      string  `json:"workload"`
	Concurrency   int     `json:"concurrency"`
	Pool          string  `json:"pool"`
	Requests      int64   `json:"requests"`
	Errors        int64   `json:"errors"`
	Seconds       float64 `json:"seconds"`
	Throughput    float64 `json:"throughput"`
	P50           float64 `json:"p50_us"`
	P99           float64 `json:"p99_us"`
	P999          float64 `json:"p999_us"`
	CPUPerReq     float64 `json:"cpu_us_per_req"`
	MaxRSSKB      int64   `json:"maxrss_kb"`
	Note          string  `json:"note"`
	// Open loop only.
	Rate    *float64     `json:"rate,omitempty"`
	Dropped *int64       `json:"dropped,omitempty"`
	Late    *int64       `json:"late,omitempty"`
	MaxUs   *float64     `json:"max_us,omitempty"`
	Hdr     [][2]float64 `json:"hdr,omitempty"`
}

// hdrPoints: the latency distribution on the HdrHistogram plot's axis, as cql4-bench's
// hdr_points computes it (ten steps per decade of 1/(1-p) from the median, then the maximum).
func hdrPoints(h *hdrhistogram.Histogram) [][2]float64 {
	var v [][2]float64
	n := float64(h.TotalCount())
	for i := 3; i <= 50; i++ {
		p := 1 - math.Pow(10, -float64(i)/10)
		if (1-p)*n < 1 {
			break
		}
		v = append(v, [2]float64{p * 100, float64(h.ValueAtQuantile(p*100)) / 1000})
	}
	return append(v, [2]float64{100, float64(h.Max()) / 1000})
}

type openOutcome struct {
	hist                            *hdrhistogram.Histogram
	requests, errors, dropped, late int64
	seconds, cpu                    float64
}

// openLoop issues op on a fixed schedule of rate requests/s, at most maxOut outstanding,
// measuring the requests due in the window [warmup, warmup+duration) from when they were due.
func openLoop(op func(int64) error, rate float64, maxOut int, warmup, duration float64) openOutcome {
	secs := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	start := time.Now()
	at := func(k int64) time.Time { return start.Add(secs(float64(k) / rate)) }
	total := int64(math.Ceil((warmup + duration) * rate))
	winStart := start.Add(secs(warmup))
	winEnd := winStart.Add(secs(duration))
	drain := winEnd.Add(time.Second)
	var histMu sync.Mutex
	hist := hdrhistogram.New(1, 60_000_000_000, 3)
	var requests, errors, dropped, outstanding atomic.Int64
	var wg sync.WaitGroup
	var cpu0 float64
	windowOpen := false
	for k := int64(0); k < total; k++ {
		due := at(k)
		// time.Sleep wakes on the netpoller's millisecond ticks, and spinning (even with
		// runtime.Gosched) starves the netpoller on the one client core: the thread sleeps in
		// nanosleep instead (about 60 µs late at worst, the kernel's timer slack), and the
		// runtime hands its P to the driver's goroutines meanwhile.
		if d := time.Until(due); d > 0 {
			ts := syscall.NsecToTimespec(d.Nanoseconds())
			_ = syscall.Nanosleep(&ts, nil)
		}
		in := !due.Before(winStart) && due.Before(winEnd)
		if in && !windowOpen {
			windowOpen = true
			cpu0, _ = rusage()
		}
		if outstanding.Load() >= int64(maxOut) {
			if in {
				dropped.Add(1)
			}
			continue
		}
		outstanding.Add(1)
		wg.Add(1)
		go func(k int64, due time.Time, in bool) {
			defer wg.Done()
			err := op(k)
			ns := time.Since(due).Nanoseconds()
			outstanding.Add(-1)
			if err != nil {
				if errors.Add(1) == 1 {
					fmt.Fprintln(os.Stderr, "first error:", err)
				}
				return
			}
			if in {
				histMu.Lock()
				_ = hist.RecordValue(ns)
				histMu.Unlock()
				requests.Add(1)
			}
		}(k, due, in)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Until(drain)):
	}
	cpu1, _ := rusage()
	histMu.Lock()
	defer histMu.Unlock()
	return openOutcome{
		hist: hdrhistogram.Import(hist.Export()), requests: requests.Load(), errors: errors.Load(),
		dropped: dropped.Load(), late: outstanding.Load(), seconds: duration, cpu: cpu1 - cpu0,
	}
}

func rusage() (float64, int64) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime), ru.Maxrss
}

func version() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == "github.com/apache/cassandra-gocql-driver/v2" {
				return d.Version
			}
		}
	}
	return "unknown"
}

func main() {
	host := flag.String("host", "127.0.0.1", "node address")
	port := flag.Int("port", 19042, "native protocol port")
	workload := flag.String("workload", "select", "select or insert")
	concurrency := flag.Int("concurrency", 1, "requests in flight")
	pool := flag.String("pool", "one", "one (NumConns=1) or default")
	warmup := flag.Float64("warmup", 2, "warm-up seconds")
	duration := flag.Float64("duration", 5, "measured seconds")
	sessionMode := flag.Bool("session", false, "the session benchmark: discovery, default pool and policy")
	keyspace := flag.String("keyspace", "bench", "keyspace of table t")
	ca := flag.String("ca", "", "CA file (PEM): connect with TLS")
	serverName := flag.String("server-name", "", "name the node's certificate must carry")
	user := flag.String("user", "", "PasswordAuthenticator user (password in CQL4_BENCH_PASSWORD)")
	rate := flag.Float64("rate", 0, "open loop: requests per second (-concurrency bounds the outstanding)")
	flag.Parse()
	selectCQL := fmt.Sprintf("SELECT id, name, payload FROM %s.t WHERE id = ?", *keyspace)
	insertCQL := fmt.Sprintf("INSERT INTO %s.t (id, name, payload) VALUES (?, ?, ?)", *keyspace)

	cluster := gocql.NewCluster(*host)
	cluster.Port = *port
	cluster.ProtoVersion = 4
	cluster.Timeout = 10 * time.Second
	note := "driver's default pool"
	if *sessionMode {
		*pool = "default"
		note = "session, defaults (discovery, default pool and host selection policy)"
	} else if *pool == "one" {
		cluster.NumConns = 1
		note = "NumConns=1"
	}
	if *ca != "" {
		pem, err := os.ReadFile(*ca)
		if err != nil {
			fmt.Fprintln(os.Stderr, "read -ca:", err)
			os.Exit(2)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			fmt.Fprintln(os.Stderr, "-ca holds no PEM certificate")
			os.Exit(2)
		}
		cluster.SslOpts = &gocql.SslOptions{
			Config:                 &tls.Config{RootCAs: roots, ServerName: *serverName},
			EnableHostVerification: true,
		}
	}
	if *user != "" {
		cluster.Authenticator = gocql.PasswordAuthenticator{
			Username: *user,
			Password: os.Getenv("CQL4_BENCH_PASSWORD"),
		}
	}
	session, err := cluster.CreateSession()
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(1)
	}
	defer session.Close()
	payload := make([]byte, 100)
	for i := range payload {
		payload[i] = byte(i)
	}

	op := func(i int64) error {
		if *workload == "select" {
			var id int
			var name string
			var p []byte
			if err := session.Query(selectCQL, selectID).Scan(&id, &name, &p); err != nil {
				return err
			}
			if id != selectID || name == "" || len(p) != 100 {
				return fmt.Errorf("unexpected row (%d, %q, %d bytes)", id, name, len(p))
			}
			return nil
		}
		return session.Query(insertCQL, 1000+int(i%100000), "name-inserted", payload).Exec()
	}

	if *rate > 0 {
		o := openLoop(op, *rate, *concurrency, *warmup, *duration)
		_, maxrss := rusage()
		n := float64(o.requests)
		if n == 0 {
			n = 1
		}
		q := func(p float64) float64 { return float64(o.hist.ValueAtQuantile(p)) / 1000 }
		maxUs := float64(o.hist.Max()) / 1000
		rec := record{
			Driver: "gocql", DriverVersion: version(), Workload: *workload,
			Concurrency: *concurrency, Pool: *pool, Requests: o.requests, Errors: o.errors,
			Seconds: o.seconds, Throughput: float64(o.requests) / o.seconds,
			P50: q(50), P99: q(99), P999: q(99.9),
			CPUPerReq: o.cpu * 1e6 / n, MaxRSSKB: maxrss, Note: note + ", open loop",
			Rate: rate, Dropped: &o.dropped, Late: &o.late, MaxUs: &maxUs, Hdr: hdrPoints(o.hist),
		}
		out, _ := json.Marshal(rec)
		fmt.Println(string(out))
		if o.requests == 0 || o.errors > 0 {
			os.Exit(1)
		}
		return
	}

	var measuring, stop atomic.Bool
	var errors atomic.Int64
	// One histogram behind a mutex: a per-goroutine HDR histogram would dominate the peak
	// RSS at 1,024 in flight.
	var histMu sync.Mutex
	hist := hdrhistogram.New(1, 60_000_000_000, 3)
	counts := make([]int64, *concurrency)
	var wg sync.WaitGroup
	for w := 0; w < *concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			i := int64(w)
			for !stop.Load() {
				t := time.Now()
				err := op(i)
				ns := time.Since(t).Nanoseconds()
				i += int64(*concurrency)
				if err != nil {
					errors.Add(1)
					fmt.Fprintln(os.Stderr, "request failed:", err)
					if !measuring.Load() {
						stop.Store(true)
					}
					continue
				}
				if measuring.Load() && !stop.Load() {
					histMu.Lock()
					_ = hist.RecordValue(ns)
					histMu.Unlock()
					counts[w]++
				}
			}
		}(w)
	}
	time.Sleep(time.Duration(*warmup * float64(time.Second)))
	cpu0, _ := rusage()
	t0 := time.Now()
	measuring.Store(true)
	time.Sleep(time.Duration(*duration * float64(time.Second)))
	stop.Store(true)
	seconds := time.Since(t0).Seconds()
	cpu1, _ := rusage()
	wg.Wait()
	_, maxrss := rusage()
	all := hist
	var requests int64
	for w := range counts {
		requests += counts[w]
	}
	n := float64(requests)
	if n == 0 {
		n = 1
	}
	q := func(p float64) float64 { return float64(all.ValueAtQuantile(p)) / 1000 }
	rec := record{
		Driver: "gocql", DriverVersion: version(), Workload: *workload,
		Concurrency: *concurrency, Pool: *pool, Requests: requests, Errors: errors.Load(),
		Seconds: seconds, Throughput: float64(requests) / seconds,
		P50: q(50), P99: q(99), P999: q(99.9),
		CPUPerReq: (cpu1 - cpu0) * 1e6 / n, MaxRSSKB: maxrss, Note: note,
	}
	out, _ := json.Marshal(rec)
	fmt.Println(string(out))
	if requests == 0 || errors.Load() > 0 {
		os.Exit(1)
	}
}
