package demo

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
)

// receiptPNG draws a small receipt — a white slip with grey text lines and a
// total bar — as a real PNG, so that the viewer has an image it can show.
func receiptPNG() []byte {
	const w, h = 96, 128
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	paper := color.RGBA{0xfb, 0xfa, 0xf5, 0xff}
	ink := color.RGBA{0x9a, 0x9a, 0xa0, 0xff}
	total := color.RGBA{0x24, 0x57, 0xc5, 0xff}
	for y := range h {
		for x := range w {
			c := paper
			switch {
			case y >= 12 && y < 110 && y%10 < 3 && x >= 10 && x < 10+(y*37)%66+10:
				c = ink
			case y >= 114 && y < 120 && x >= 50 && x < 86:
				c = total
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err) // encoding an in-memory RGBA image cannot fail
	}
	return b.Bytes()
}

// invoicePDF is a minimal one-page PDF for the demo's document block.
func invoicePDF() []byte {
	return []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n" +
		"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
}
