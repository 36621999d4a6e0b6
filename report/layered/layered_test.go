package layered

import (
	"math/rand"
	"strconv"
	"testing"
)

func overlaps(t *testing.T, g Graph, r Result) {
	t.Helper()
	for i := range g.Nodes {
		for j := i + 1; j < len(g.Nodes); j++ {
			a, b := g.Nodes[i], g.Nodes[j]
			if r.X[i] < r.X[j]+b.W && r.X[j] < r.X[i]+a.W && r.Y[i] < r.Y[j]+b.H && r.Y[j] < r.Y[i]+a.H {
				t.Fatalf("nodes %d and %d overlap: (%v,%v) (%v,%v)", i, j, r.X[i], r.Y[i], r.X[j], r.Y[j])
			}
		}
	}
}

func boxes(n int, w, h float64) []Node {
	ns := make([]Node, n)
	for i := range ns {
		ns[i] = Node{W: w, H: h}
	}
	return ns
}

// A chain (a replication ring, once its back edge is reversed) is folded into rows no wider
// than MaxWidth, read left to right, top to bottom, along the edges.
func TestChainFoldsIntoRows(t *testing.T) {
	g := Graph{Nodes: boxes(20, 100, 40)}
	for i := 0; i < 20; i++ {
		g.Edges = append(g.Edges, Edge{i, (i + 1) % 20}, Edge{(i + 1) % 20, i})
	}
	r := Layout(g, Options{MaxWidth: 500, GapX: 25, GapY: 30})
	overlaps(t, g, r)
	if r.Rows != 5 || r.Width > 500 {
		t.Errorf("%d rows, width %v; want 4 per row in 5 rows", r.Rows, r.Width)
	}
	for i := 0; i+1 < 20; i++ {
		a, b := i, i+1
		if !(r.Y[b] > r.Y[a] || (r.Y[b] == r.Y[a] && r.X[b] > r.X[a])) {
			t.Errorf("node %d at (%v,%v) is not after node %d at (%v,%v) in reading order", b, r.X[b], r.Y[b], a, r.X[a], r.Y[a])
		}
	}
}

// In a DAG every edge goes forward in reading order: sources come first.
func TestEdgesGoForward(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	g := Graph{Nodes: boxes(60, 80, 30)}
	for i := 0; i < 150; i++ {
		a, b := rng.Intn(60), rng.Intn(60)
		if a > b {
			a, b = b, a
		}
		if a != b {
			g.Edges = append(g.Edges, Edge{a, b})
		}
	}
	r := Layout(g, Options{MaxWidth: 600})
	overlaps(t, g, r)
	for _, e := range g.Edges {
		a, b := e.From, e.To
		if !(r.Y[b] > r.Y[a] || (r.Y[b] == r.Y[a] && r.X[b] > r.X[a])) {
			t.Errorf("edge %d->%d goes backwards", a, b)
		}
	}
	if r.Width > 600 {
		t.Errorf("width %v", r.Width)
	}
}

// Out-of-range edges and self-loops are ignored, an oversized node gets a row of its own, and
// equal input gives equal output.
func TestOddInput(t *testing.T) {
	g := Graph{Nodes: []Node{{W: 50, H: 10}, {W: 5000, H: 10}, {W: 50, H: 80}}, Edges: []Edge{{0, 0}, {-1, 2}, {0, 9}, {2, 1}}}
	r := Layout(g, Options{MaxWidth: 300})
	overlaps(t, g, r)
	r2 := Layout(g, Options{MaxWidth: 300})
	for i := range r.X {
		if r.X[i] != r2.X[i] || r.Y[i] != r2.Y[i] {
			t.Fatal("two layouts of the same graph differ")
		}
	}
	if r := Layout(Graph{}, Options{}); r.Width != 0 || r.Height != 0 {
		t.Errorf("empty graph: %+v", r)
	}
}

// BenchmarkLayout places the graph that was given to go-graphviz's dot when choosing this
// package (the numbers are in its commit): n DCs in sites of 20, each with 2 inbound partners in
// its site, the first DC of each site with one more from the next site. (The report places the
// sites' DCs and then the sites, which is cheaper than one graph of every DC.)
func BenchmarkLayout(b *testing.B) {
	for _, n := range []int{50, 500, 2000} {
		g := Graph{Nodes: boxes(n, 176, 44)}
		sites := (n + 19) / 20
		for i := 0; i < n; i++ {
			lo := i / 20 * 20
			size := min(n, lo+20) - lo
			for k := 1; k <= 2 && k < size; k++ {
				g.Edges = append(g.Edges, Edge{lo + (i-lo+k)%size, i})
			}
			if i == lo && sites > 1 {
				g.Edges = append(g.Edges, Edge{(i/20 + 1) % sites * 20, i})
			}
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for range b.N {
				Layout(g, Options{MaxWidth: 1400})
			}
		})
	}
}
