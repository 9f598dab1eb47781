module github.com/motionstudio/studio

go 1.26

require (
	codeberg.org/sbinet/npyio v0.14.0 // indirect
	fyne.io/fyne/v2 v2.7.1 // indirect
	github.com/campoy/embedmd v1.0.0 // indirect
	github.com/go-gl/mathgl v1.2.0 // indirect
	github.com/nlpodyssey/gopickle v0.3.0 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	github.com/qmuntal/gltf v0.28.0 // indirect
	golang.org/x/text v0.34.0 // indirect
	gonum.org/v1/gonum v0.17.0 // indirect
)
