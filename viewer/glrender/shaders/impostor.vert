#version 330 core
// A capsule drawn as one screen-space quad that covers its silhouette; the
// fragment shader ray-casts the exact surface. Two triangles per bone
// instead of dozens: a software rasteriser pays per triangle.
layout(location = 0) in vec2 aCorner; // x: 0 at A, 1 at B; y: -1..1 across
layout(location = 1) in vec4 iA;      // xyz, radius
layout(location = 2) in vec4 iB;      // xyz, unused
layout(location = 3) in vec4 iColor;

uniform mat4 uViewProj;
uniform mat4 uInvViewProj;
uniform vec2 uHalfViewport; // pixels
uniform float uPxPerUnit;   // pixels per unit length at clip w = 1
uniform bool uOrtho;
uniform float uOffAxis;
uniform bool uWholeView; // every quad covers the view (tests of the bound)

noperspective out vec4 vNear; // the pixel's ray: points on the near and far planes
noperspective out vec4 vFar;
flat out vec4 vA;
flat out vec4 vB;
flat out vec4 vColor;

const float nearW = 0.02;

float radiusPx(float r, float w) {
    // A sphere at eye depth w subtends r/sqrt(w²-r²) on the view axis; at
    // an angle θ off it the silhouette reaches 1/cos θ further from the
    // projected centre: uOffAxis is that factor at the view's corners.
    return uOrtho ? r * uPxPerUnit : uOffAxis * r * uPxPerUnit / sqrt(w * w - r * r);
}

void main() {
    vec4 ca = uViewProj * vec4(iA.xyz, 1.0);
    vec4 cb = uViewProj * vec4(iB.xyz, 1.0);
    float r = iA.w;
    vec2 ndc;
    if (uWholeView || !uOrtho && (ca.w < r + nearW || cb.w < r + nearW)) {
        // Reaching the camera: cover the whole view and let the ray decide.
        ndc = vec2(aCorner.x * 2.0 - 1.0, aCorner.y);
    } else {
        vec2 sa = ca.xy / ca.w * uHalfViewport;
        vec2 sb = cb.xy / cb.w * uHalfViewport;
        float R = max(radiusPx(r, ca.w), radiusPx(r, cb.w)) + 1.0;
        vec2 d = sb - sa;
        float len = length(d);
        vec2 dir = len > 1e-3 ? d / len : vec2(1.0, 0.0);
        vec2 perp = vec2(-dir.y, dir.x);
        vec2 p = mix(sa - dir * R, sb + dir * R, aCorner.x) + perp * (aCorner.y * R);
        ndc = p / uHalfViewport;
    }
    gl_Position = vec4(ndc, 0.0, 1.0);
    vNear = uInvViewProj * vec4(ndc, -1.0, 1.0);
    vFar = uInvViewProj * vec4(ndc, 1.0, 1.0);
    vA = iA;
    vB = iB;
    vColor = iColor;
}
