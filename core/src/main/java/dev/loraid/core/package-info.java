/** loraid core module. */
package dev.loraid.core;
