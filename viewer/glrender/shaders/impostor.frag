#version 330 core
noperspective in vec4 vNear;
noperspective in vec4 vFar;
flat in vec4 vA;
flat in vec4 vB;
flat in vec4 vColor;

uniform mat4 uViewProj;
uniform bool uLit; // the full lighting of solid bones; ghosts take the key light only

out vec4 fragColor;

// sphere returns the ray distance to the sphere (c, r), or -1.
float sphere(vec3 ro, vec3 rd, vec3 c, float r) {
    vec3 oc = ro - c;
    float b = dot(rd, oc);
    float h = b * b - (dot(oc, oc) - r * r);
    return h < 0.0 ? -1.0 : -b - sqrt(h);
}

void main() {
    vec3 ro = vNear.xyz / vNear.w;
    vec3 rd = normalize(vFar.xyz / vFar.w - ro);
    vec3 a = vA.xyz, b = vB.xyz;
    float r = vA.w;
    // The capsule is the set of points within r of the segment a–b: first
    // the infinite cylinder around it, then the end sphere on the side the
    // cylinder hit falls.
    vec3 ba = b - a, oa = ro - a;
    float baba = dot(ba, ba), bard = dot(ba, rd), baoa = dot(ba, oa);
    float k2 = baba - bard * bard;
    float t = -1.0;
    if (k2 > 1e-10 * baba && baba > 1e-12) {
        float k1 = baba * dot(oa, rd) - baoa * bard;
        float k0 = baba * dot(oa, oa) - baoa * baoa - r * r * baba;
        float h = k1 * k1 - k2 * k0;
        if (h < 0.0) {
            discard;
        }
        t = (-k1 - sqrt(h)) / k2;
        float y = baoa + t * bard;
        if (y < 0.0 || y > baba) {
            t = sphere(ro, rd, y < 0.0 ? a : b, r);
        }
    } else {
        // Along the axis (or a ball): the nearer end sphere.
        float ta = sphere(ro, rd, a, r), tb = sphere(ro, rd, b, r);
        t = ta < 0.0 ? tb : (tb < 0.0 ? ta : min(ta, tb));
    }
    if (t < 0.0) {
        discard;
    }
    vec3 p = ro + t * rd;
    float s = baba > 1e-12 ? clamp(dot(p - a, ba) / baba, 0.0, 1.0) : 0.0;
    vec3 n = (p - (a + ba * s)) / r;
    vec4 clip = uViewProj * vec4(p, 1.0);
    gl_FragDepth = clip.z / clip.w * 0.5 + 0.5;

    vec3 c = uLit ? shade(vColor.rgb, n, -rd) : shadeGhost(vColor.rgb, n);
    fragColor = vec4(c, vColor.a);
}
