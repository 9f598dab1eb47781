// Lighting shared by the bone shaders (inserted after their #version line).
// A key light from above and in front, a sky/ground ambient and a soft rim:
// enough to read a bone's volume without a shadow map.
const vec3 keyDir = normalize(vec3(0.35, 0.85, 0.45));

// shade lights a solid bone; n and toEye are unit vectors.
vec3 shade(vec3 base, vec3 n, vec3 toEye) {
    float diffuse = max(dot(n, keyDir), 0.0);
    float ambient = mix(0.28, 0.5, n.y * 0.5 + 0.5);
    float f = 1.0 - max(dot(n, toEye), 0.0);
    float rim = f * f * f * 0.25;
    // s^32 by squaring: pow costs an exp and a log per pixel on a software
    // rasteriser.
    float s = max(dot(n, normalize(keyDir + toEye)), 0.0);
    s *= s; s *= s; s *= s; s *= s; s *= s;
    return min(base * (ambient + 0.65 * diffuse) + vec3(rim + 0.18 * s), vec3(1.0));
}

// shadeGhost lights an onion-skin ghost: the key light only.
vec3 shadeGhost(vec3 base, vec3 n) {
    return base * (0.45 + 0.55 * max(dot(n, keyDir), 0.0));
}
