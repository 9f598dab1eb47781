package model

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// ORTVersion is the ONNX Runtime release the Makefile installs.
const ORTVersion = "1.30.0"

// Devices a model can run on.
const (
	DeviceAuto = "auto"
	DeviceCPU  = "cpu"
	DeviceCUDA = "cuda"
)

var (
	// ErrRuntime: ONNX Runtime could not be found or started.
	ErrRuntime = errors.New("ONNX Runtime unavailable")
	// ErrDevice: the requested device cannot be used.
	ErrDevice = errors.New("device unavailable")
)

// LibraryCandidates lists where the ONNX Runtime library is looked for, in
// order: $ONNXRUNTIME_LIB, $ONNXRUNTIME_SHARED_LIBRARY_PATH (what the
// Makefile exports), the Makefile's cache, then beside the executable.
func LibraryCandidates() []string {
	var out []string
	for _, env := range []string{"ONNXRUNTIME_LIB", "ONNXRUNTIME_SHARED_LIBRARY_PATH"} {
		if p := os.Getenv(env); p != "" {
			out = append(out, p)
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		out = append(out, filepath.Join(home, ".cache", "motionstudio", "onnxruntime-"+ORTVersion, "libonnxruntime.so.1"))
	}
	if exe, err := os.Executable(); err == nil {
		out = append(out, filepath.Join(filepath.Dir(exe), "libonnxruntime.so.1"))
	}
	return out
}

// FindLibrary returns the first candidate that exists.
func FindLibrary() (string, error) {
	c := LibraryCandidates()
	for _, p := range c {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: libonnxruntime.so.1 not found (looked in %s; run `make deps` or set ONNXRUNTIME_LIB)",
		ErrRuntime, strings.Join(c, ", "))
}

var (
	rtOnce sync.Once
	rtLib  string
	rtErr  error
)

// InitRuntime starts ONNX Runtime once per process from lib (FindLibrary
// when empty). Later calls return the first call's outcome: the C library
// cannot be swapped inside a running process.
func InitRuntime(lib string) (string, error) {
	rtOnce.Do(func() {
		if lib == "" {
			if lib, rtErr = FindLibrary(); rtErr != nil {
				return
			}
		}
		rtLib = lib
		if ort.IsInitialized() { // started by the embedding program itself
			return
		}
		ort.SetSharedLibraryPath(lib)
		if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
			rtErr = fmt.Errorf("%w: %s: %v", ErrRuntime, lib, err)
		}
	})
	return rtLib, rtErr
}

// DeviceChoice is a parsed device request: "auto", "cpu", "cuda" or
// "cuda:N".
type DeviceChoice struct {
	Kind  string
	Index int
}

// ParseDevice reads "auto" | "cpu" | "cuda" | "cuda:N" (empty means auto).
func ParseDevice(s string) (DeviceChoice, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "", DeviceAuto:
		return DeviceChoice{Kind: DeviceAuto}, nil
	case DeviceCPU:
		return DeviceChoice{Kind: DeviceCPU}, nil
	case DeviceCUDA:
		return DeviceChoice{Kind: DeviceCUDA}, nil
	}
	if rest, ok := strings.CutPrefix(s, DeviceCUDA+":"); ok {
		if n, err := strconv.Atoi(rest); err == nil && n >= 0 {
			return DeviceChoice{Kind: DeviceCUDA, Index: n}, nil
		}
	}
	return DeviceChoice{}, fmt.Errorf("%w: %q (want auto, cpu, cuda or cuda:N)", ErrDevice, s)
}

func (d DeviceChoice) String() string {
	if d.Kind == DeviceCUDA && d.Index > 0 {
		return fmt.Sprintf("cuda:%d", d.Index)
	}
	return d.Kind
}

// cudaVisible reports whether CUDA_VISIBLE_DEVICES leaves device index
// visible; an empty list or "-1" hides every GPU.
func cudaVisible(index int) error {
	v, set := os.LookupEnv("CUDA_VISIBLE_DEVICES")
	if !set {
		return nil
	}
	v = strings.TrimSpace(v)
	if v == "" || v == "-1" || v == "none" {
		return fmt.Errorf("CUDA_VISIBLE_DEVICES=%q hides every GPU", v)
	}
	if n := len(strings.Split(v, ",")); index >= n {
		return fmt.Errorf("CUDA_VISIBLE_DEVICES=%q leaves %d GPU(s), device index %d asked", v, n, index)
	}
	return nil
}

// sessionOptions builds ORT options for one device: CPU with threads
// intra-op threads, or the CUDA provider on device index.
func sessionOptions(dev DeviceChoice, threads int) (*ort.SessionOptions, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("%w: session options: %v", ErrRuntime, err)
	}
	if threads > 0 {
		if err := opts.SetIntraOpNumThreads(threads); err != nil {
			opts.Destroy()
			return nil, fmt.Errorf("%w: %v", ErrRuntime, err)
		}
	}
	if dev.Kind != DeviceCUDA {
		return opts, nil
	}
	if err := cudaVisible(dev.Index); err != nil {
		opts.Destroy()
		return nil, fmt.Errorf("%w: cuda: %v", ErrDevice, err)
	}
	cuda, err := ort.NewCUDAProviderOptions()
	if err != nil {
		opts.Destroy()
		return nil, fmt.Errorf("%w: cuda: ONNX Runtime's CUDA provider (libonnxruntime_providers_cuda.so and "+
			"_shared.so beside %s) could not be loaded: %v", ErrDevice, rtLib, err)
	}
	defer cuda.Destroy()
	if err := cuda.Update(map[string]string{"device_id": strconv.Itoa(dev.Index)}); err != nil {
		opts.Destroy()
		return nil, fmt.Errorf("%w: cuda: %v", ErrDevice, err)
	}
	if err := opts.AppendExecutionProviderCUDA(cuda); err != nil {
		opts.Destroy()
		return nil, fmt.Errorf("%w: cuda: the CUDA provider did not load (ORT's CUDA provider libraries, "+
			"libcudart/cublas and a driver are needed): %v", ErrDevice, err)
	}
	return opts, nil
}
